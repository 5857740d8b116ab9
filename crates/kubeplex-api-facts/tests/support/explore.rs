//! Learns the shape of a `k8s-openapi` type by deserializing it from a deserializer that records
//! what the type asks for: `deserialize_struct` hands over the type's name and its field names,
//! and feeding one field at a time shows what each field's value deserializes as. The recording
//! deserializer answers every request with an error once it has noted it, so no value is built.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// What a type (or a field's value) deserializes as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Struct {
        name: &'static str,
        fields: &'static [&'static str],
    },
    Newtype(&'static str),
    Enum(&'static str),
    Option(Box<Shape>),
    Seq(Box<Shape>),
    /// A map; the shape of its values (keys are strings).
    Map(Box<Shape>),
    Str,
    Bool,
    I32,
    I64,
    U32,
    U64,
    F32,
    F64,
    Bytes,
    Unit,
    Any,
    /// The type asked for nothing we could see.
    Unknown,
}

impl Shape {
    /// Without any `Option` wrappers.
    pub fn unwrap_options(&self) -> &Shape {
        match self {
            Shape::Option(inner) => inner.unwrap_options(),
            other => other,
        }
    }
}

#[derive(Debug)]
pub struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop(msg.to_string())
    }
}

type Slot = Rc<RefCell<Option<Shape>>>;

fn slot() -> Slot {
    Rc::new(RefCell::new(None))
}

fn take(slot: &Slot) -> Shape {
    slot.borrow_mut().take().unwrap_or(Shape::Unknown)
}

/// The shape of `T` itself (for a struct: its name and field names).
pub fn type_shape<T: DeserializeOwned>() -> Shape {
    let out = slot();
    let _ = T::deserialize(Recorder { out: out.clone(), field: None });
    take(&out)
}

/// The shape of field `field` of struct `T`.
pub fn field_shape<T: DeserializeOwned>(field: &'static str) -> Shape {
    let out = slot();
    let _ = T::deserialize(Recorder { out: out.clone(), field: Some(field) });
    take(&out)
}

/// The recording deserializer. With `field` set, a struct request is answered by a map holding just
/// that field, whose value is recorded.
struct Recorder {
    out: Slot,
    field: Option<&'static str>,
}

impl Recorder {
    fn record<V>(self, shape: Shape) -> Result<V, Stop> {
        *self.out.borrow_mut() = Some(shape);
        Err(Stop("recorded".into()))
    }

    fn inner(&self) -> (Slot, Recorder) {
        let inner = slot();
        (inner.clone(), Recorder { out: inner, field: None })
    }
}

macro_rules! record_as {
    ($($method:ident => $shape:expr),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
            self.record($shape)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Recorder {
    type Error = Stop;

    record_as! {
        deserialize_any => Shape::Any,
        deserialize_bool => Shape::Bool,
        deserialize_i8 => Shape::I32,
        deserialize_i16 => Shape::I32,
        deserialize_i32 => Shape::I32,
        deserialize_i64 => Shape::I64,
        deserialize_u8 => Shape::U32,
        deserialize_u16 => Shape::U32,
        deserialize_u32 => Shape::U32,
        deserialize_u64 => Shape::U64,
        deserialize_f32 => Shape::F32,
        deserialize_f64 => Shape::F64,
        deserialize_char => Shape::Str,
        deserialize_str => Shape::Str,
        deserialize_string => Shape::Str,
        deserialize_bytes => Shape::Bytes,
        deserialize_byte_buf => Shape::Bytes,
        deserialize_unit => Shape::Unit,
        deserialize_identifier => Shape::Str,
        deserialize_ignored_any => Shape::Any,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let (inner, recorder) = self.inner();
        let _ = visitor.visit_some(recorder);
        self.record(Shape::Option(Box::new(take(&inner))))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, _visitor: V) -> Result<V::Value, Stop> {
        self.record(Shape::Unit)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, _visitor: V) -> Result<V::Value, Stop> {
        self.record(Shape::Newtype(name))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let (inner, recorder) = self.inner();
        let _ = visitor.visit_seq(OneElement { recorder: Some(recorder) });
        self.record(Shape::Seq(Box::new(take(&inner))))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let (inner, recorder) = self.inner();
        let _ = visitor.visit_map(OneEntry { key: Some("key"), recorder: Some(recorder) });
        self.record(Shape::Map(Box::new(take(&inner))))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        match self.field {
            None => self.record(Shape::Struct { name, fields }),
            Some(field) => {
                let (inner, recorder) = self.inner();
                let _ = visitor.visit_map(OneEntry { key: Some(field), recorder: Some(recorder) });
                self.record(take(&inner))
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        self.record(Shape::Enum(name))
    }
}

struct OneElement {
    recorder: Option<Recorder>,
}

impl<'de> SeqAccess<'de> for OneElement {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Stop> {
        match self.recorder.take() {
            Some(recorder) => seed.deserialize(recorder).map(Some),
            None => Ok(None),
        }
    }
}

struct OneEntry {
    key: Option<&'static str>,
    recorder: Option<Recorder>,
}

impl<'de> MapAccess<'de> for OneEntry {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(key) => seed.deserialize(IntoDeserializer::<'de, Stop>::into_deserializer(key)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        match self.recorder.take() {
            Some(recorder) => seed.deserialize(recorder),
            None => Err(Stop("no value".into())),
        }
    }
}
