//! The CEL language and the Kubernetes libraries, through `kapi_cel::evaluate`.

use serde_json::{json, Value};

fn eval(expression: &str) -> Value {
    kapi_cel::evaluate(
        expression,
        &json!({"a": 1, "s": "hello", "l": [3, 1, 2], "m": {"k": "v"}, "n": null}),
    )
    .unwrap_or_else(|error| panic!("{expression}: {error}"))
}

fn eval_error(expression: &str) -> String {
    match kapi_cel::evaluate(expression, &json!({"a": 1, "l": [1]})) {
        Ok(value) => panic!("{expression} evaluated to {value}"),
        Err(error) => error,
    }
}

#[test]
fn arithmetic_and_comparison() {
    let cases: &[(&str, Value)] = &[
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("7 / 2", json!(3)),
        ("7 % 3", json!(1)),
        ("-7 / 2", json!(-3)),
        ("2.5 * 2.0", json!(5.0)),
        ("3u + 4u", json!(7)),
        ("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3", json!(true)),
        ("1 != 2", json!(true)),
        ("'a' < 'b'", json!(true)),
        ("true ? 'y' : 'n'", json!("y")),
        ("!false", json!(true)),
        ("-(-3)", json!(3)),
        ("-9223372036854775808", json!(i64::MIN)),
        ("9223372036854775808u", json!(9_223_372_036_854_775_808_u64)),
        ("0x10", json!(16)),
        ("1e3", json!(1000.0)),
        ("dyn(1) == 1.0", json!(true)),
        ("1 < 1.5", json!(true)),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
}

#[test]
fn logic_absorbs_errors_like_cel() {
    assert_eq!(eval("false && (1 / 0 == 1)"), json!(false));
    assert_eq!(eval("(1 / 0 == 1) && false"), json!(false));
    assert_eq!(eval("(1 / 0 == 1) || true"), json!(true));
    assert_eq!(eval_error("(1 / 0 == 1) || false"), "division by zero");
}

#[test]
fn runtime_errors() {
    assert_eq!(eval_error("9223372036854775807 + 1 > 0"), "integer overflow");
    assert!(eval_error("9223372036854775808 > 0").contains("invalid int literal"));
    assert_eq!(eval_error("self.l[5] == 1"), "index out of bounds: 5");
    assert_eq!(eval_error("self.missing == 1"), "no such key: missing");
    assert_eq!(eval_error("1 % 0 == 0"), "division by zero");
}

#[test]
fn strings_and_escapes() {
    let cases: &[(&str, Value)] = &[
        ("'a' + \"b\"", json!("ab")),
        ("size('héllo')", json!(5)),
        ("'hello'.size()", json!(5)),
        ("'hello'.contains('ell')", json!(true)),
        ("'hello'.startsWith('he') && 'hello'.endsWith('lo')", json!(true)),
        ("'tab\\there'", json!("tab\there")),
        ("r'raw\\n'", json!("raw\\n")),
        ("'''multi\nline'''", json!("multi\nline")),
        ("'\\u00e9\\x41\\101'", json!("éAA")),
        ("'hello'.charAt(1)", json!("e")),
        ("'hello'.indexOf('l')", json!(2)),
        ("'hello'.lastIndexOf('l')", json!(3)),
        ("'hello'.indexOf('l', 3)", json!(3)),
        ("'HeLLo'.lowerAscii()", json!("hello")),
        ("'hello'.upperAscii()", json!("HELLO")),
        ("'a-b-c'.replace('-', '+')", json!("a+b+c")),
        ("'a-b-c'.replace('-', '+', 1)", json!("a+b-c")),
        ("'a,b,c'.split(',')", json!(["a", "b", "c"])),
        ("'a,b,c'.split(',', 2)", json!(["a", "b,c"])),
        ("'hello'.substring(1, 3)", json!("el")),
        ("'hello'.substring(2)", json!("llo")),
        ("'  x  '.trim()", json!("x")),
        ("['a', 'b'].join('-')", json!("a-b")),
        ("['a', 'b'].join()", json!("ab")),
        (
            "'%s has %d items (%.2f)'.format(['x', 3, 1.5])",
            json!("x has 3 items (1.50)"),
        ),
        (
            "'%s'.format([['a', 1, 2.5, true, null]])",
            json!("[\"a\", 1, 2.500000, true, null]"),
        ),
        ("'%s'.format([{'b': 1, 'a': 'x'}])", json!("{\"a\":\"x\", \"b\":1}")),
        (
            "'%s'.format([[timestamp('2024-01-01T00:00:00Z'), duration('1s')]])",
            json!("[timestamp(\"2024-01-01T00:00:00Z\"), duration(\"1s\")]"),
        ),
        (
            "'%e|%.2e|%f|%b|%o|%x'.format([1234.5678, 1.0, 2.0, true, 8, 255])",
            json!("1.234568e+03|1.000000e+00|2.000000|1|10|ff"),
        ),
        ("strings.quote('a\"b')", json!("\"a\\\"b\"")),
        ("string(12) + string(1.5) + string(true)", json!("121.5true")),
        ("int('42') + 1", json!(43)),
        ("double('1.5')", json!(1.5)),
        ("bytes('ab') == b'ab'", json!(true)),
        ("string(b'ab')", json!("ab")),
        ("type(1) == int", json!(true)),
        ("type('a') == string", json!(true)),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
}

#[test]
fn regex() {
    assert_eq!(eval("'abc123'.matches('^[a-z]+[0-9]+$')"), json!(true));
    assert_eq!(eval("matches('abc', 'b')"), json!(true));
    // RE2's Perl classes are ASCII-only.
    assert_eq!(eval("'١٢'.matches('^\\\\d+$')"), json!(false));
    assert_eq!(eval("'12'.matches('^\\\\d+$')"), json!(true));
    assert_eq!(
        eval("'a_1'.matches('^[\\\\w]+$') && !'é'.matches('^\\\\w$')"),
        json!(true)
    );
    assert_eq!(
        eval("'a]b'.matches('^[]ab]+$') && 'x-y'.matches('^[[:alpha:]-]+$')"),
        json!(true)
    );
    assert_eq!(
        eval("'a b'.matches('a\\\\sb') && 'ab'.matches('\\\\bab\\\\b')"),
        json!(true)
    );
    assert_eq!(eval("'abc'.matches('^b')"), json!(false));
    assert_eq!(eval("'abc 123 def 456'.find('[0-9]+')"), json!("123"));
    assert_eq!(eval("'abc 123 def 456'.findAll('[0-9]+')"), json!(["123", "456"]));
    assert_eq!(eval("'abc 123 def 456'.findAll('[0-9]+', 1)"), json!(["123"]));
    assert!(eval_error("'a'.matches('(' + '')").starts_with("error parsing regexp"));
    assert!(eval_error("'a'.matches('(')").contains("invalid matches argument"));
}

#[test]
fn lists_maps_and_macros() {
    let cases: &[(&str, Value)] = &[
        ("[1, 2] + [3]", json!([1, 2, 3])),
        ("2 in [1, 2]", json!(true)),
        ("'k' in self.m", json!(true)),
        ("self.m['k']", json!("v")),
        ("self.m.k", json!("v")),
        ("size(self.l)", json!(3)),
        ("self.l.all(x, x > 0)", json!(true)),
        ("self.l.exists(x, x > 2)", json!(true)),
        ("self.l.exists_one(x, x > 1)", json!(false)),
        ("self.l.map(x, x * 2)", json!([6, 2, 4])),
        ("self.l.map(x, x > 1, x * 10)", json!([30, 20])),
        ("self.l.filter(x, x != 1)", json!([3, 2])),
        ("self.m.all(k, k == 'k')", json!(true)),
        ("{'a': 1, 'b': 2}.map(k, k)", json!(["a", "b"])),
        ("has(self.m.k)", json!(true)),
        ("has(self.m.z)", json!(false)),
        ("has(self.n)", json!(true)),
        ("self.n == null", json!(true)),
        ("[1, 2, 3].isSorted() && ![3, 1].isSorted()", json!(true)),
        ("[1, 2, 3].sum()", json!(6)),
        ("[1.5, 2.5].sum()", json!(4.0)),
        ("[3, 1, 2].min()", json!(1)),
        ("[3, 1, 2].max()", json!(3)),
        ("[1, 2, 1].indexOf(1)", json!(0)),
        ("[1, 2, 1].lastIndexOf(1)", json!(2)),
        ("sets.contains([1, 2, 3], [1, 2])", json!(true)),
        ("sets.equivalent([1, 2], [2, 1, 1])", json!(true)),
        ("sets.intersects([1, 2], [3])", json!(false)),
        ("{'a': 1} == {'a': 1}", json!(true)),
        ("[10, 20].all(i, v, v == (i + 1) * 10)", json!(true)),
        ("{'a': 1, 'b': 2}.exists(k, v, k == 'b' && v == 2)", json!(true)),
        ("[1, 2, 3].existsOne(i, v, i == v)", json!(false)),
        ("[5, 6].transformList(i, v, v * i)", json!([0, 6])),
        ("[5, 6, 7].transformList(i, v, i > 0, v)", json!([6, 7])),
        ("{'a': 1, 'b': 2}.transformMap(k, v, v * 10)", json!({"a": 10, "b": 20})),
        ("{'a': 1}.transformMapEntry(k, v, {v: k})", json!({"1": "a"})),
        ("['x', 'y'].transformMap(i, v, v)", json!({"0": "x", "1": "y"})),
        ("[[1], [2]] == [[1], [2]]", json!(true)),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
    assert_eq!(
        eval_error("{'a': 1, 'a': 2}.size() == 1"),
        "Failed with repeated key: a"
    );
    assert_eq!(
        eval_error("{'a': 1, 'b': 1}.transformMapEntry(k, v, {v: k}).size() == 1"),
        "insert failed: key 1 already exists"
    );
    assert!(eval_error("'%.99999999999f'.format([1.0])").contains("precision"));
    assert_eq!(
        eval_error("'%d'.format([1.5])"),
        "error during formatting: decimal clause can only be used on integers, was given double"
    );
    assert_eq!(
        eval_error("'%f'.format([1])"),
        "error during formatting: fixed-point clause can only be used on doubles, was given int"
    );
}

#[test]
fn optionals() {
    let cases: &[(&str, Value)] = &[
        ("self.?m.?k.orValue('none')", json!("v")),
        ("self.?m.?z.orValue('none')", json!("none")),
        ("self.m[?'z'].hasValue()", json!(false)),
        ("self.m[?'k'].value()", json!("v")),
        ("optional.of(1).value()", json!(1)),
        ("optional.none().orValue(5)", json!(5)),
        ("optional.ofNonZeroValue('').hasValue()", json!(false)),
        ("optional.none().or(optional.of(2)).value()", json!(2)),
        ("optional.of(2).optMap(x, x * 3).value()", json!(6)),
        ("optional.of(2).optFlatMap(x, optional.none()).hasValue()", json!(false)),
        ("[1, ?optional.none(), ?optional.of(3)]", json!([1, 3])),
        ("{'a': 1, ?'b': optional.none()}", json!({"a": 1})),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
    assert_eq!(
        eval_error("optional.none().value() == 1"),
        "optional.none() dereference"
    );
}

#[test]
fn timestamps_and_durations() {
    let cases: &[(&str, Value)] = &[
        ("timestamp('2024-02-29T12:30:45Z').getFullYear()", json!(2024)),
        ("timestamp('2024-02-29T12:30:45Z').getMonth()", json!(1)),
        ("timestamp('2024-02-29T12:30:45Z').getDate()", json!(29)),
        ("timestamp('2024-02-29T12:30:45Z').getDayOfWeek()", json!(4)),
        ("timestamp('2024-02-29T12:30:45Z').getDayOfYear()", json!(59)),
        ("timestamp('2024-02-29T12:30:45.250Z').getMilliseconds()", json!(250)),
        ("timestamp('2024-02-29T12:30:45+01:00').getHours()", json!(11)),
        (
            "string(timestamp('2024-01-01T00:00:00Z') + duration('1h30m'))",
            json!("2024-01-01T01:30:00Z"),
        ),
        (
            "timestamp('2024-01-02T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('24h')",
            json!(true),
        ),
        ("duration('90m').getHours()", json!(1)),
        ("string(duration('1.5s'))", json!("1.5s")),
        ("duration('1m') < duration('61s')", json!(true)),
        ("int(timestamp('1970-01-01T00:01:00Z'))", json!(60)),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
}

#[test]
fn kubernetes_libraries() {
    let cases: &[(&str, Value)] = &[
        ("quantity('1Gi').isGreaterThan(quantity('1G'))", json!(true)),
        ("quantity('500m').asApproximateFloat()", json!(0.5)),
        ("quantity('1k').asInteger()", json!(1000)),
        ("quantity('1.5').isInteger()", json!(false)),
        ("quantity('1Ki').compareTo(quantity('1024'))", json!(0)),
        (
            "quantity('1').add(quantity('500m')).isLessThan(quantity('2'))",
            json!(true),
        ),
        ("quantity('2').sub(1).asInteger()", json!(1)),
        ("quantity('-3').sign()", json!(-1)),
        ("isQuantity('1Zi')", json!(false)),
        (
            "url('https://user@example.com:8443/a/b?x=1&x=2').getHostname()",
            json!("example.com"),
        ),
        ("url('https://example.com:8443/a/b').getPort()", json!("8443")),
        ("url('https://example.com/a/b').getEscapedPath()", json!("/a/b")),
        (
            "url('https://example.com/a?x=1&x=2').getQuery()",
            json!({"x": ["1", "2"]}),
        ),
        ("url('https://[::1]:80/').getHostname()", json!("::1")),
        ("isURL('not a url')", json!(false)),
        ("url('/relative/path').getScheme()", json!("")),
        ("ip('192.168.0.1').family()", json!(4)),
        ("ip('::1').isLoopback()", json!(true)),
        ("ip('fe80::1').isLinkLocalUnicast()", json!(true)),
        ("ip('8.8.8.8').isGlobalUnicast()", json!(true)),
        ("isIP('1.2.3')", json!(false)),
        ("isIP('::ffff:1.2.3.4')", json!(false)),
        ("cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))", json!(true)),
        ("cidr('10.0.0.0/8').containsIP('11.1.2.3')", json!(false)),
        ("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", json!(true)),
        ("string(cidr('10.1.2.3/8').masked())", json!("10.0.0.0/8")),
        ("cidr('10.0.0.0/8').prefixLength()", json!(8)),
        ("string(cidr('10.1.2.3/8').ip())", json!("10.1.2.3")),
        ("isCIDR('10.0.0.0/33')", json!(false)),
        ("semver('1.2.3').isLessThan(semver('1.10.0'))", json!(true)),
        ("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))", json!(true)),
        ("semver('v1.2', true).minor()", json!(2)),
        ("isSemver('01.2.3')", json!(false)),
        ("semver('2.3.4').major() + semver('2.3.4').patch()", json!(6)),
        ("image('kube-apiserver-arm64:testtag').registry()", json!("index.docker.io")),
        ("image('nginx').repository()", json!("library/nginx")),
        ("image('registry.k8s.io/kube-apiserver-arm64:latest').registry()", json!("registry.k8s.io")),
        ("image('registry.k8s.io/kube-apiserver-arm64').repository()", json!("kube-apiserver-arm64")),
        ("image('registry.k8s.io/kube-apiserver-arm64').tag()", json!("latest")),
        ("image('registry.k8s.io/kube-apiserver-arm64:testtag').identifier()", json!("testtag")),
        ("image('localhost:5000/team/app').registry() + ' ' + image('localhost:5000/team/app').tag()", json!("localhost:5000 latest")),
        ("image('registry.k8s.io/xy:latest@sha256:6aefddb645ee6963afd681b1845c661d0ea4c3b20ab9db86d9e753b203d385f2').identifier()", json!("sha256:6aefddb645ee6963afd681b1845c661d0ea4c3b20ab9db86d9e753b203d385f2")),
        ("image('registry.k8s.io/xy@sha256:6aefddb645ee6963afd681b1845c661d0ea4c3b20ab9db86d9e753b203d385f2').containsDigest()", json!(true)),
        ("image('registry.k8s.io/xy:latest').containsDigest()", json!(false)),
        ("isImage('registry.k8s.io//kube-apiserver-arm64')", json!(false)),
        ("isImage('Upper/Case')", json!(false)),
        ("format.dns1123Label().validate('Bad_Name').hasValue()", json!(true)),
        ("format.dns1123Label().validate('good-name').hasValue()", json!(false)),
        (
            "format.named('labelValue').value().validate('ok').hasValue()",
            json!(false),
        ),
        ("format.named('nope').hasValue()", json!(false)),
        (
            "format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()",
            json!(false),
        ),
    ];
    for (expression, expected) in cases {
        assert_eq!(&eval(expression), expected, "{expression}");
    }
}

#[test]
fn syntax_errors_point_at_the_token() {
    let error = eval_error("self.a +");
    assert_eq!(
        error,
        "ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', \
         'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | self.a +\n | ........^"
    );
    assert!(eval_error("1 +* 2").contains("<input>:1:4"));
    assert!(eval_error("'unterminated").contains("Syntax error"));
    assert!(eval_error("has(1)").contains("invalid argument to has() macro"));
    assert!(eval_error("(1 + 2").starts_with("ERROR: <input>:1:7: Syntax error: missing ')' at '<EOF>'"));
    assert!(eval_error("(1 + 2 3)").starts_with("ERROR: <input>:1:8: Syntax error: extraneous input '3' expecting ')'"));
    assert!(eval_error("1 + 2)").starts_with("ERROR: <input>:1:6: Syntax error: extraneous input ')' expecting <EOF>"));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}1{}", "(".repeat(400), ")".repeat(400));
    assert!(eval_error(&deep).contains("recursion limit"));
    let long_chain = vec!["1"; 5000].join(" + ");
    assert!(eval_error(&format!("{long_chain} > 0")).contains("recursion limit"));
    let allowed_chain = vec!["1"; 240].join(" + ");
    assert_eq!(eval(&format!("{allowed_chain} == 240")), json!(true));
    let allowed_nesting = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(eval(&allowed_nesting), json!(1));
}
