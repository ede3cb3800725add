//! Deserialization of model structures: JSON objects only.
//!
//! `#[derive(Deserialize)]` would also accept a JSON array for a struct (serde's
//! sequence form), which AWS rejects; `deserialize_structure!` generates a map-only
//! visitor instead. Unknown members are skipped, `null` leaves a member absent, and a
//! repeated member keeps its last value (as Jackson does).

/// Implements `Deserialize` for a generated structure whose members are all `Option`s:
/// `deserialize_structure!(Tag { tag_key => "TagKey", tag_value => "TagValue" });`
macro_rules! deserialize_structure {
    ($ty:ident {}) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct StructVisitor;
                impl<'de> ::serde::de::Visitor<'de> for StructVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($ty), " object"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> ::std::result::Result<$ty, A::Error> {
                        while map
                            .next_entry::<::serde::de::IgnoredAny, ::serde::de::IgnoredAny>()?
                            .is_some()
                        {}
                        Ok($ty {})
                    }
                }
                deserializer.deserialize_map(StructVisitor)
            }
        }
    };
    ($ty:ident { $($field:ident => $name:literal),+ $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct StructVisitor;
                impl<'de> ::serde::de::Visitor<'de> for StructVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($ty), " object"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> ::std::result::Result<$ty, A::Error> {
                        let mut value = <$ty>::default();
                        while let Some(key) = map.next_key::<::std::string::String>()? {
                            match key.as_str() {
                                $($name => value.$field = map.next_value()?,)+
                                _ => {
                                    map.next_value::<::serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(value)
                    }
                }
                deserializer.deserialize_map(StructVisitor)
            }
        }
    };
}
