//! The protobuf wire format: varints, field keys and the four payload shapes, with nothing about
//! Kubernetes. A [`Reader`] walks one message's fields; groups (wire types 3 and 4, unused by
//! Kubernetes) are skipped whole.

/// Wire type numbers.
pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const START_GROUP: u8 = 3;
pub(crate) const END_GROUP: u8 = 4;
pub(crate) const FIXED32: u8 = 5;

/// The largest field number protobuf allows.
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// How deep groups may nest while being skipped.
const MAX_GROUP_DEPTH: usize = 64;

/// What went wrong at the wire level; the caller adds where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireError {
    Truncated,
    Overflow,
    IllegalTag { tag: u64, wire_type: u8 },
    IllegalWireType(u8),
}

/// One field's payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Payload<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
    /// A group, skipped (its contents are not decoded).
    Group,
}

impl Payload<'_> {
    /// The wire type number of this payload.
    pub(crate) fn wire_type(&self) -> u8 {
        match self {
            Payload::Varint(_) => VARINT,
            Payload::Fixed64(_) => FIXED64,
            Payload::Len(_) => LEN,
            Payload::Fixed32(_) => FIXED32,
            Payload::Group => START_GROUP,
        }
    }
}

/// One field as read: its number and payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    pub(crate) payload: Payload<'a>,
}

/// Reads the fields of one message in order.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Reads one varint (at most ten bytes, as Go's decoder allows).
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(WireError::Overflow);
            }
            let Some(&byte) = self.data.get(self.pos) else {
                return Err(WireError::Truncated);
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Overflow)?;
        let slice = self.data.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn fixed64(&mut self) -> Result<u64, WireError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    pub(crate) fn fixed32(&mut self) -> Result<u32, WireError> {
        let bytes = self.take(4)?;
        let mut array = [0u8; 4];
        array.copy_from_slice(bytes);
        Ok(u32::from_le_bytes(array))
    }

    fn key(&mut self) -> Result<(u64, u8), WireError> {
        let key = self.varint()?;
        // The low three bits are always < 8.
        let wire_type = (key & 7) as u8;
        Ok((key >> 3, wire_type))
    }

    /// Reads the next field, or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<Field<'a>>, WireError> {
        if self.is_empty() {
            return Ok(None);
        }
        let (tag, wire_type) = self.key()?;
        if wire_type == END_GROUP {
            return Err(WireError::IllegalWireType(wire_type));
        }
        if tag == 0 || tag > MAX_FIELD_NUMBER {
            return Err(WireError::IllegalTag { tag, wire_type });
        }
        // Checked just above: tag fits in 29 bits.
        let number = tag as u32;
        let payload = self.payload(wire_type, number)?;
        Ok(Some(Field { number, payload }))
    }

    fn payload(&mut self, wire_type: u8, number: u32) -> Result<Payload<'a>, WireError> {
        Ok(match wire_type {
            VARINT => Payload::Varint(self.varint()?),
            FIXED64 => Payload::Fixed64(self.fixed64()?),
            LEN => {
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| WireError::Overflow)?;
                Payload::Len(self.take(len)?)
            }
            FIXED32 => Payload::Fixed32(self.fixed32()?),
            START_GROUP => {
                self.skip_group(number, 0)?;
                Payload::Group
            }
            other => return Err(WireError::IllegalWireType(other)),
        })
    }

    /// Skips the rest of a group opened with field `number`, up to its end-group marker.
    fn skip_group(&mut self, number: u32, depth: usize) -> Result<(), WireError> {
        if depth >= MAX_GROUP_DEPTH {
            return Err(WireError::Overflow);
        }
        loop {
            if self.is_empty() {
                return Err(WireError::Truncated);
            }
            let (tag, wire_type) = self.key()?;
            if tag == 0 || tag > MAX_FIELD_NUMBER {
                return Err(WireError::IllegalTag { tag, wire_type });
            }
            match wire_type {
                END_GROUP if tag == u64::from(number) => return Ok(()),
                END_GROUP => return Err(WireError::IllegalWireType(END_GROUP)),
                START_GROUP => self.skip_group(tag as u32, depth + 1)?,
                other => {
                    self.payload(other, tag as u32)?;
                }
            }
        }
    }
}

/// Appends a varint (for building test messages).
#[cfg(test)]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_varints_of_every_length() {
        for value in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut bytes = Vec::new();
            put_varint(&mut bytes, value);
            let mut reader = Reader::new(&bytes);
            assert_eq!(reader.varint(), Ok(value));
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn rejects_overlong_and_truncated_varints() {
        assert_eq!(Reader::new(&[0xff; 11]).varint(), Err(WireError::Overflow));
        assert_eq!(Reader::new(&[0x80, 0x80]).varint(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[]).varint(), Err(WireError::Truncated));
    }

    #[test]
    fn reads_each_wire_type() {
        // 1: varint 150; 2: fixed64; 3: "hi"; 4: fixed32
        let bytes = [0x08, 0x96, 0x01, 0x11, 1, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0x02, b'h', b'i', 0x25, 2, 0, 0, 0];
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 1, payload: Payload::Varint(150) })));
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 2, payload: Payload::Fixed64(1) })));
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 3, payload: Payload::Len(b"hi") })));
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 4, payload: Payload::Fixed32(2) })));
        assert_eq!(reader.next_field(), Ok(None));
    }

    #[test]
    fn skips_groups_with_nested_groups() {
        // 5: start group { 1: varint 1, 6: start group { } end 6 } end 5; then 2: varint 7
        let bytes = [0x2b, 0x08, 0x01, 0x33, 0x34, 0x2c, 0x10, 0x07];
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 5, payload: Payload::Group })));
        assert_eq!(reader.next_field(), Ok(Some(Field { number: 2, payload: Payload::Varint(7) })));
        // An unterminated group is truncated; a stray end-group is illegal.
        assert_eq!(Reader::new(&[0x2b, 0x08, 0x01]).next_field(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[0x2c]).next_field(), Err(WireError::IllegalWireType(4)));
        assert_eq!(Reader::new(&[0x2b, 0x34]).next_field(), Err(WireError::IllegalWireType(4)));
    }

    #[test]
    fn rejects_bad_keys_and_lengths() {
        assert_eq!(Reader::new(&[0x00, 0x01]).next_field(), Err(WireError::IllegalTag { tag: 0, wire_type: 0 }));
        assert_eq!(Reader::new(&[0x0e]).next_field(), Err(WireError::IllegalWireType(6)));
        assert_eq!(Reader::new(&[0x0f]).next_field(), Err(WireError::IllegalWireType(7)));
        assert_eq!(Reader::new(&[0x0a, 0x05, b'a']).next_field(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[0x09, 0x01]).next_field(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[0x0d, 0x01]).next_field(), Err(WireError::Truncated));
        let mut huge = vec![0x0a];
        put_varint(&mut huge, u64::MAX);
        assert!(matches!(Reader::new(&huge).next_field(), Err(WireError::Overflow | WireError::Truncated)));
    }
}
