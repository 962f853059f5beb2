//! CEL source → AST: a hand-written lexer and precedence-climbing parser for the CEL grammar (cel-spec
//! `langdef.md`), without message construction (`Type{field: ...}`), which Kubernetes rules have no type for.
//!
//! Macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`, `optMap`, `optFlatMap`) are expanded here into
//! their own AST nodes, as cel-go's parser does.

use std::fmt::Write as _;

use crate::lexer::{lex, Tok, Token};

/// One parsed expression node. `offset` is the character offset of the token that cel-go reports errors at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) id: u32,
    pub(crate) offset: usize,
    pub(crate) kind: ExprKind,
}

/// A literal constant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
}

/// The comprehension macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacroKind {
    All,
    Exists,
    ExistsOne,
    /// `map(x, t)` (no filter) or `map(x, p, t)` (filter first).
    Map,
    Filter,
    /// The two-variable forms (cel-go's ext.TwoVarComprehensions): `transformList(i, v, [p,] t)`.
    TransformList,
    /// `transformMap(k, v, [p,] t)`.
    TransformMap,
    /// `transformMapEntry(k, v, [p,] {k2: v2})`.
    TransformMapEntry,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Lit(Literal),
    Ident(String),
    /// `operand.field`; `test_only` for `has(operand.field)`; `optional` for `operand.?field`.
    Select {
        operand: Box<Expr>,
        field: String,
        test_only: bool,
        optional: bool,
    },
    /// Function or operator call (`_+_`, `_[_]`, `_[?_]`, `_?_:_`, `_&&_`, `!_`, ...). `target` for `x.f(...)`.
    Call {
        function: String,
        target: Option<Box<Expr>>,
        args: Vec<Expr>,
    },
    /// `[a, ?b]`: the indices of optional entries.
    List {
        items: Vec<Expr>,
        optional: Vec<usize>,
    },
    /// `{k: v, ?k2: v2}`: (key, value, optional).
    Map(Vec<(Expr, Expr, bool)>),
    /// A comprehension macro over `range` binding `var` (and `var2` for two-variable forms).
    Comprehension {
        kind: MacroKind,
        range: Box<Expr>,
        var: String,
        /// The second variable of two-variable comprehensions: the element (lists) or value (maps).
        var2: Option<String>,
        predicate: Option<Box<Expr>>,
        transform: Option<Box<Expr>>,
    },
    /// `opt.optMap(v, expr)` / `opt.optFlatMap(v, expr)`.
    OptMap {
        flat: bool,
        target: Box<Expr>,
        var: String,
        body: Box<Expr>,
    },
}

/// A parse error at a character offset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

const RESERVED: [&str; 16] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
];

/// What ANTLR lists after "expecting" where a primary expression must start.
const EXPECT_PRIMARY: &str =
    "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";

/// Parses a CEL expression. Errors carry the character offset cel-go reports.
pub(crate) fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let source: Vec<char> = text.chars().collect();
    let tokens = lex(&source)?;
    let mut parser = Parser {
        source: &source,
        tokens,
        pos: 0,
        next_id: 1,
        depth: 0,
    };
    let expr = parser.expr()?;
    let token = parser.peek().clone();
    if token.tok != Tok::Eof {
        return Err(SyntaxError {
            offset: token.start,
            message: format!(
                "Syntax error: extraneous input '{}' expecting <EOF>",
                token.tok.describe(&source, token.start, token.end)
            ),
        });
    }
    if ast_depth(&expr) > MAX_AST_DEPTH {
        return Err(SyntaxError {
            offset: 0,
            message: "expression recursion limit exceeded".to_owned(),
        });
    }
    Ok(expr)
}

/// The depth of the tree, measured without recursion (long operator chains nest without parentheses).
fn ast_depth(root: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 1_usize)];
    while let Some((expr, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        let mut children: Vec<&Expr> = Vec::new();
        match &expr.kind {
            ExprKind::Lit(_) | ExprKind::Ident(_) => {}
            ExprKind::Select { operand, .. } => children.push(operand),
            ExprKind::Call { target, args, .. } => {
                children.extend(target.as_deref());
                children.extend(args.iter());
            }
            ExprKind::List { items, .. } => children.extend(items.iter()),
            ExprKind::Map(entries) => {
                for (key, value, _) in entries {
                    children.push(key);
                    children.push(value);
                }
            }
            ExprKind::Comprehension {
                range,
                predicate,
                transform,
                ..
            } => {
                children.push(range);
                children.extend(predicate.as_deref());
                children.extend(transform.as_deref());
            }
            ExprKind::OptMap { target, body, .. } => {
                children.push(target);
                children.push(body);
            }
        }
        stack.extend(children.into_iter().map(|child| (child, depth + 1)));
    }
    deepest
}

/// Parenthesis and unary nesting beyond this is refused: each level costs the recursive-descent parser about ten
/// stack frames, and no rule may overflow a 2 MiB thread stack, even in a debug build.
const MAX_DEPTH: usize = 40;
/// Trees deeper than this (long operator chains nest too) are refused, bounding the checker's and the
/// evaluator's recursion (cel-go's limit).
const MAX_AST_DEPTH: usize = 250;

struct Parser<'a> {
    source: &'a [char],
    tokens: Vec<Token>,
    pos: usize,
    next_id: u32,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_sym(&self) -> Option<&'static str> {
        match self.peek().tok {
            Tok::Sym(symbol) => Some(symbol),
            _ => None,
        }
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        token
    }

    fn node(&mut self, offset: usize, kind: ExprKind) -> Expr {
        let id = self.next_id;
        self.next_id += 1;
        Expr { id, offset, kind }
    }

    fn mismatched(&self, expecting: &str) -> SyntaxError {
        let token = self.peek();
        SyntaxError {
            offset: token.start,
            message: format!(
                "Syntax error: mismatched input '{}' expecting {expecting}",
                token.tok.describe(self.source, token.start, token.end)
            ),
        }
    }

    /// Consumes `symbol`, or reports what ANTLR's recovery would: a missing token before the end, an extra token
    /// before the expected one, or a mismatch.
    fn expect(&mut self, symbol: &'static str) -> Result<Token, SyntaxError> {
        if self.peek_sym() == Some(symbol) {
            return Ok(self.advance());
        }
        let token = self.peek().clone();
        let next_is_expected =
            matches!(self.tokens.get(self.pos + 1), Some(Token { tok: Tok::Sym(next), .. }) if *next == symbol);
        let message = if token.tok == Tok::Eof {
            format!("Syntax error: missing '{symbol}' at '<EOF>'")
        } else if next_is_expected {
            format!(
                "Syntax error: extraneous input '{}' expecting '{symbol}'",
                token.tok.describe(self.source, token.start, token.end)
            )
        } else {
            return Err(self.mismatched(&format!("'{symbol}'")));
        };
        Err(SyntaxError {
            offset: token.start,
            message,
        })
    }

    fn call(&mut self, offset: usize, function: &str, target: Option<Expr>, args: Vec<Expr>) -> Expr {
        self.node(
            offset,
            ExprKind::Call {
                function: function.to_owned(),
                target: target.map(Box::new),
                args,
            },
        )
    }

    /// Counts one level of nesting; both recursion and operator chains nest the tree (and its drop).
    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                offset: self.peek().start,
                message: "expression recursion limit exceeded".to_owned(),
            });
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let condition = self.binary(0)?;
        let result = if self.peek_sym() == Some("?") {
            let question = self.advance();
            let when_true = self.binary(0)?;
            self.expect(":")?;
            let when_false = self.expr()?;
            Ok(self.call(question.start, "_?_:_", None, vec![condition, when_true, when_false]))
        } else {
            Ok(condition)
        };
        self.depth -= 1;
        result
    }

    /// Binary operators by precedence level: 0 `||`, 1 `&&`, 2 relations, 3 `+ -`, 4 `* / %`.
    fn binary(&mut self, level: usize) -> Result<Expr, SyntaxError> {
        if level > 4 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(symbol) = self.peek_sym() {
            let function = match (level, symbol) {
                (0, "||") => "_||_",
                (1, "&&") => "_&&_",
                (2, "==") => "_==_",
                (2, "!=") => "_!=_",
                (2, "<") => "_<_",
                (2, "<=") => "_<=_",
                (2, ">") => "_>_",
                (2, ">=") => "_>=_",
                (2, "in") => "@in",
                (3, "+") => "_+_",
                (3, "-") => "_-_",
                (4, "*") => "_*_",
                (4, "/") => "_/_",
                (4, "%") => "_%_",
                _ => break,
            };
            let operator = self.advance();
            let right = self.binary(level + 1)?;
            left = self.call(operator.start, function, None, vec![left, right]);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek_sym() {
            Some("!") => {
                let operator = self.advance();
                self.enter()?;
                let operand = self.unary()?;
                self.depth -= 1;
                Ok(self.call(operator.start, "!_", None, vec![operand]))
            }
            Some("-") => {
                let operator = self.advance();
                // Fold negative numeric literals so that `-9223372036854775808` is representable.
                match self.peek().tok.clone() {
                    Tok::Int(value) if !self.followed_by_member() => {
                        let token = self.advance();
                        let _ = token;
                        return Ok(self.node(operator.start, ExprKind::Lit(Literal::Int(-value))));
                    }
                    Tok::MinIntMagnitude => {
                        self.advance();
                        return Ok(self.node(operator.start, ExprKind::Lit(Literal::Int(i64::MIN))));
                    }
                    Tok::Double(value) if !self.followed_by_member() => {
                        self.advance();
                        return Ok(self.node(operator.start, ExprKind::Lit(Literal::Double(-value))));
                    }
                    _ => {}
                }
                self.enter()?;
                let operand = self.unary()?;
                self.depth -= 1;
                Ok(self.call(operator.start, "-_", None, vec![operand]))
            }
            _ => self.member(),
        }
    }

    fn followed_by_member(&self) -> bool {
        matches!(
            self.tokens.get(self.pos + 1).map(|token| &token.tok),
            Some(Tok::Sym("." | "[" | ".?" | "[?"))
        )
    }

    fn args(&mut self, close: &'static str) -> Result<Vec<Expr>, SyntaxError> {
        let mut args = Vec::new();
        if self.peek_sym() == Some(close) {
            self.advance();
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            match self.peek_sym() {
                Some(",") => {
                    self.advance();
                }
                Some(symbol) if symbol == close => {
                    self.advance();
                    return Ok(args);
                }
                _ => return Err(self.mismatched(&format!("{{',', '{close}'}}"))),
            }
        }
    }

    fn member(&mut self) -> Result<Expr, SyntaxError> {
        let mut expr = self.primary()?;
        loop {
            match self.peek_sym() {
                Some(symbol @ ("." | ".?")) => {
                    let dot = self.advance();
                    let name = match self.advance().tok {
                        Tok::Ident(name) => name,
                        _ => {
                            self.pos -= 1;
                            return Err(self.mismatched("IDENTIFIER"));
                        }
                    };
                    if symbol == "." && self.peek_sym() == Some("(") {
                        let open = self.advance();
                        let args = self.args(")")?;
                        expr = self.member_call(open.start, expr, &name, args)?;
                    } else {
                        expr = self.node(
                            dot.start,
                            ExprKind::Select {
                                operand: Box::new(expr),
                                field: name,
                                test_only: false,
                                optional: symbol == ".?",
                            },
                        );
                    }
                }
                Some(symbol @ ("[" | "[?")) => {
                    let open = self.advance();
                    let index = self.expr()?;
                    self.expect("]")?;
                    let function = if symbol == "[" { "_[_]" } else { "_[?_]" };
                    expr = self.call(open.start, function, None, vec![expr, index]);
                }
                _ => return Ok(expr),
            }
        }
    }

    fn member_call(
        &mut self,
        offset: usize,
        target: Expr,
        name: &str,
        mut args: Vec<Expr>,
    ) -> Result<Expr, SyntaxError> {
        let kind = match (name, args.len()) {
            ("all", 2 | 3) => Some(MacroKind::All),
            ("exists", 2 | 3) => Some(MacroKind::Exists),
            ("exists_one", 2) | ("existsOne", 2 | 3) => Some(MacroKind::ExistsOne),
            ("map", 2 | 3) => Some(MacroKind::Map),
            ("filter", 2) => Some(MacroKind::Filter),
            ("transformList", 3 | 4) => Some(MacroKind::TransformList),
            ("transformMap", 3 | 4) => Some(MacroKind::TransformMap),
            ("transformMapEntry", 3 | 4) => Some(MacroKind::TransformMapEntry),
            _ => None,
        };
        let var_of = |expr: &Expr| match &expr.kind {
            ExprKind::Ident(name) => Ok(name.clone()),
            _ => Err(SyntaxError {
                offset: expr.offset,
                message: "argument must be a simple name".to_owned(),
            }),
        };
        if let Some(kind) = kind {
            let two_variables = match kind {
                MacroKind::Map | MacroKind::Filter => false,
                MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => args.len() == 3,
                MacroKind::TransformList | MacroKind::TransformMap | MacroKind::TransformMapEntry => true,
            };
            let var = var_of(&args[0])?;
            let var2 = if two_variables { Some(var_of(&args[1])?) } else { None };
            if var2.as_ref() == Some(&var) {
                return Err(SyntaxError {
                    offset: args[1].offset,
                    message: format!("duplicate variable name: {var}"),
                });
            }
            let first_body = if two_variables { 2 } else { 1 };
            let mut bodies: Vec<Expr> = args.drain(first_body..).collect();
            let (predicate, transform) = match kind {
                MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne | MacroKind::Filter => (bodies.pop(), None),
                _ if bodies.len() == 2 => {
                    let transform = bodies.pop();
                    (bodies.pop(), transform)
                }
                _ => (None, bodies.pop()),
            };
            return Ok(self.node(
                offset,
                ExprKind::Comprehension {
                    kind,
                    range: Box::new(target),
                    var,
                    var2,
                    predicate: predicate.map(Box::new),
                    transform: transform.map(Box::new),
                },
            ));
        }
        if matches!(name, "optMap" | "optFlatMap") && args.len() == 2 {
            let var = var_of(&args[0])?;
            let body = args.pop().map(Box::new);
            if let Some(body) = body {
                return Ok(self.node(
                    offset,
                    ExprKind::OptMap {
                        flat: name == "optFlatMap",
                        target: Box::new(target),
                        var,
                        body,
                    },
                ));
            }
        }
        Ok(self.call(offset, name, Some(target), args))
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let token = self.peek().clone();
        let literal = match &token.tok {
            Tok::Int(value) => Some(Literal::Int(*value)),
            Tok::MinIntMagnitude => {
                return Err(SyntaxError {
                    offset: token.start,
                    message: "invalid int literal".to_owned(),
                })
            }
            Tok::Uint(value) => Some(Literal::Uint(*value)),
            Tok::Double(value) => Some(Literal::Double(*value)),
            Tok::Str(value) => Some(Literal::String(value.clone())),
            Tok::Bytes(value) => Some(Literal::Bytes(value.clone())),
            Tok::Sym("true") => Some(Literal::Bool(true)),
            Tok::Sym("false") => Some(Literal::Bool(false)),
            Tok::Sym("null") => Some(Literal::Null),
            _ => None,
        };
        if let Some(literal) = literal {
            self.advance();
            return Ok(self.node(token.start, ExprKind::Lit(literal)));
        }
        match token.tok {
            Tok::Ident(name) => {
                self.advance();
                if RESERVED.contains(&name.as_str()) {
                    return Err(SyntaxError {
                        offset: token.start,
                        message: format!("reserved identifier: {name}"),
                    });
                }
                if self.peek_sym() == Some("(") {
                    let open = self.advance();
                    let mut args = self.args(")")?;
                    if name == "has" {
                        if args.len() == 1 {
                            if let Some(Expr {
                                kind:
                                    ExprKind::Select {
                                        operand,
                                        field,
                                        optional: false,
                                        ..
                                    },
                                offset,
                                ..
                            }) = args.pop()
                            {
                                return Ok(self.node(
                                    offset,
                                    ExprKind::Select {
                                        operand,
                                        field,
                                        test_only: true,
                                        optional: false,
                                    },
                                ));
                            }
                        }
                        return Err(SyntaxError {
                            offset: open.start,
                            message: "invalid argument to has() macro".to_owned(),
                        });
                    }
                    return Ok(self.call(open.start, &name, None, args));
                }
                Ok(self.node(token.start, ExprKind::Ident(name)))
            }
            Tok::Sym(".") => {
                // A leading dot names the root scope: `.self`.
                self.advance();
                match self.peek().tok.clone() {
                    Tok::Ident(name) => {
                        self.advance();
                        Ok(self.node(token.start, ExprKind::Ident(name)))
                    }
                    _ => Err(self.mismatched("IDENTIFIER")),
                }
            }
            Tok::Sym("(") => {
                self.advance();
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Sym("[") => {
                self.advance();
                let mut items = Vec::new();
                let mut optional = Vec::new();
                while self.peek_sym() != Some("]") {
                    if self.peek_sym() == Some("?") {
                        self.advance();
                        optional.push(items.len());
                    }
                    items.push(self.expr()?);
                    match self.peek_sym() {
                        Some(",") => {
                            self.advance();
                        }
                        Some("]") => {}
                        _ => return Err(self.mismatched("{',', ']'}")),
                    }
                }
                self.advance();
                Ok(self.node(token.start, ExprKind::List { items, optional }))
            }
            Tok::Sym("{") => {
                self.advance();
                let mut entries = Vec::new();
                while self.peek_sym() != Some("}") {
                    let optional = if self.peek_sym() == Some("?") {
                        self.advance();
                        true
                    } else {
                        false
                    };
                    let key = self.expr()?;
                    self.expect(":")?;
                    let value = self.expr()?;
                    entries.push((key, value, optional));
                    match self.peek_sym() {
                        Some(",") => {
                            self.advance();
                        }
                        Some("}") => {}
                        _ => return Err(self.mismatched("{',', '}'}")),
                    }
                }
                self.advance();
                Ok(self.node(token.start, ExprKind::Map(entries)))
            }
            _ => Err(self.mismatched(EXPECT_PRIMARY)),
        }
    }
}

/// Formats one error the way cel-go does: `ERROR: <input>:line:col: message`, the source line and a caret.
pub(crate) fn format_error(source: &str, offset: usize, message: &str) -> String {
    let mut line_number = 1;
    let mut line_start = 0;
    for (index, c) in source.chars().enumerate() {
        if index >= offset {
            break;
        }
        if c == '\n' {
            line_number += 1;
            line_start = index + 1;
        }
    }
    let column = offset - line_start;
    let line: String = source.chars().skip(line_start).take_while(|c| *c != '\n').collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "ERROR: <input>:{line_number}:{}: {message}\n | {line}\n | ",
        column + 1
    );
    for c in line.chars().take(column) {
        // cel-go keeps tabs so the caret lines up; everything else becomes a dot.
        out.push(if c == '\t' { '\t' } else { '.' });
    }
    out.push('^');
    out
}
