/// Declares a UUID-backed identifier newtype. Ids are UUIDv7 so that new rows land at the
/// end of their indexes.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7())
            }

            pub fn from_uuid(id: uuid::Uuid) -> Self {
                $name(id)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            /// The id's text (as [`Display`](std::fmt::Display) writes it), without a
            /// heap allocation: for binding it to a query.
            pub fn text(&self) -> $crate::id::IdText {
                $crate::id::IdText::of(self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map($name)
            }
        }
    };
}

pub(crate) use uuid_id;

/// An id's hyphenated lower-case text, held inline.
#[derive(Clone, Copy)]
pub struct IdText([u8; uuid::fmt::Hyphenated::LENGTH]);

impl IdText {
    pub(crate) fn of(id: uuid::Uuid) -> IdText {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut text);
        IdText(text)
    }

    pub fn as_str(&self) -> &str {
        // `encode_lower` wrote hex digits and hyphens only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for IdText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use crate::user::UserId;

    #[test]
    fn an_id_text_is_its_display() {
        let id = UserId::generate();
        assert_eq!(id.text().as_str(), id.to_string());
    }
}
