//! The protobuf wire format at the byte level: varints, tags and length-delimited fields.
//!
//! Only what Kubernetes messages use: wire types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit).
//! Groups (3, 4) are rejected, since no Kubernetes message has them.

use crate::Error;

/// A protobuf wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    Fixed64,
    Bytes,
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64) -> Option<Self> {
        match bits {
            0 => Some(Self::Varint),
            1 => Some(Self::Fixed64),
            2 => Some(Self::Bytes),
            5 => Some(Self::Fixed32),
            _ => None,
        }
    }

    fn bits(self) -> u64 {
        match self {
            Self::Varint => 0,
            Self::Fixed64 => 1,
            Self::Bytes => 2,
            Self::Fixed32 => 5,
        }
    }
}

/// One field as it appeared on the wire, its payload not yet interpreted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl WireValue<'_> {
    pub(crate) fn wire_type(&self) -> WireType {
        match self {
            Self::Varint(_) => WireType::Varint,
            Self::Fixed64(_) => WireType::Fixed64,
            Self::Bytes(_) => WireType::Bytes,
            Self::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// Iterates over the fields of one encoded message.
pub(crate) struct FieldReader<'a> {
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut value: u64 = 0;
        for (index, byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                if index == 9 && *byte > 1 {
                    return Err(Error::malformed("varint overflows 64 bits"));
                }
                self.rest = &self.rest[index + 1..];
                return Ok(value);
            }
        }
        Err(Error::malformed(if self.rest.len() < 10 {
            "truncated varint"
        } else {
            "varint longer than 10 bytes"
        }))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        if self.rest.len() < len {
            return Err(Error::malformed("field runs past the end of its message"));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u32, WireValue<'a>), Error> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|number| *number != 0 && *number < (1 << 29))
            .ok_or_else(|| Error::malformed("invalid field number"))?;
        let wire_type = WireType::from_bits(key & 7).ok_or_else(|| Error::malformed("unsupported wire type"))?;
        let value = match wire_type {
            WireType::Varint => WireValue::Varint(self.varint()?),
            WireType::Fixed64 => {
                let bytes = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                WireValue::Fixed64(u64::from_le_bytes(array))
            }
            WireType::Fixed32 => {
                let bytes = self.take(4)?;
                let mut array = [0u8; 4];
                array.copy_from_slice(bytes);
                WireValue::Fixed32(u32::from_le_bytes(array))
            }
            WireType::Bytes => {
                let len = usize::try_from(self.varint()?).map_err(|_| Error::malformed("length too large"))?;
                WireValue::Bytes(self.take(len)?)
            }
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for FieldReader<'a> {
    type Item = Result<(u32, WireValue<'a>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = self.field();
        if item.is_err() {
            // One error ends the message: what follows the bad byte cannot be framed.
            self.rest = &[];
        }
        Some(item)
    }
}

/// Appends a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a field key.
pub(crate) fn put_key(out: &mut Vec<u8>, number: u32, wire_type: WireType) {
    put_varint(out, (u64::from(number) << 3) | wire_type.bits());
}

/// Appends a length-delimited field.
pub(crate) fn put_bytes(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_key(out, number, WireType::Bytes);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Appends a length-delimited field whose payload `write` appends in place, so nested messages are not built in
/// buffers of their own and copied: one length byte is reserved, and widened afterwards if the payload needs it.
pub(crate) fn put_nested<E>(
    out: &mut Vec<u8>,
    number: u32,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    put_key(out, number, WireType::Bytes);
    let length_at = out.len();
    out.push(0);
    write(out)?;
    let len = out.len() - length_at - 1;
    if len < 0x80 {
        out[length_at] = len as u8;
    } else {
        let mut length = Vec::with_capacity(5);
        put_varint(&mut length, len as u64);
        out.splice(length_at..=length_at, length);
    }
    Ok(())
}

/// Appends a varint field.
pub(crate) fn put_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_key(out, number, WireType::Varint);
    put_varint(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_their_boundaries() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), (-1i64) as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint_field(&mut out, 7, value);
            let fields: Vec<_> = FieldReader::new(&out)
                .collect::<Result<_, _>>()
                .expect("valid encoding");
            assert!(
                matches!(fields[..], [(7, WireValue::Varint(v))] if v == value),
                "{value}"
            );
        }
    }

    #[test]
    fn nested_fields_get_the_same_bytes_as_copied_ones() {
        for len in [0, 1, 127, 128, 300, 20_000] {
            let payload = vec![7u8; len];
            let (mut copied, mut nested) = (Vec::new(), Vec::new());
            put_bytes(&mut copied, 3, &payload);
            put_nested(&mut nested, 3, |out| {
                out.extend_from_slice(&payload);
                Ok::<(), ()>(())
            })
            .expect("writes");
            assert_eq!(nested, copied, "{len}");
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &[0x08][..],
            &[0x08, 0x80],
            &[0x12, 0x05, 1],
            &[0x0b],
            &[0x00, 0x00],
            &[0xff; 11],
        ] {
            assert!(FieldReader::new(bad).any(|field| field.is_err()), "{bad:?}");
        }
    }
}
