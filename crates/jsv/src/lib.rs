//! ServiceStack's JSV text format ("JSON + CSV"), which no published crate reads or writes.
//!
//! - Maps are `{Key:Value,Other:Value}` and lists `[a,b,c]`; scalars (strings, numbers,
//!   booleans, dates, GUIDs) are text without quotes.
//! - A string holding any of `[ ] { } , "` (or a line break, a `:` in a key, leading or
//!   trailing white space, or nothing at all) is written in double quotes, a `"` inside
//!   doubled (CSV-style): `"2"" x 1"""`.
//! - White space around tokens is skipped, so the pretty-printed JSV of ServiceStack's
//!   metadata pages parses too. An empty value (`{A:,B:1}`) is null. A key given twice in
//!   one map is refused.
//!
//! JSV has no types of its own: [`parse`] gives every scalar as a JSON string, and the
//! reader's DTOs decide what the text must be. [`write`] writes any JSON value, leaving out
//! null members as ServiceStack does. Parsing is linear in the input and bounded in depth.

use serde_json::{Map, Value};

/// How deeply maps and lists may nest.
pub const MAX_DEPTH: usize = 64;

/// Why a text is not JSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsvError {
    #[error("the JSV ends in the middle of a value (at byte {0})")]
    UnexpectedEnd(usize),
    #[error("unexpected '{found}' at byte {at}: expected {expected}")]
    Unexpected { found: char, at: usize, expected: &'static str },
    #[error("the JSV nests more than {MAX_DEPTH} levels deep")]
    TooDeep,
    #[error("a quoted string that starts at byte {0} is never closed")]
    UnterminatedString(usize),
    #[error("unexpected text after the value at byte {0}")]
    TrailingText(usize),
    #[error("the key {0:?} appears twice in one map")]
    DuplicateKey(String),
}

/// Parses a JSV document. Scalars become JSON strings, empty values null.
pub fn parse(text: &str) -> Result<Value, JsvError> {
    let mut parser = Parser { text, at: 0 };
    parser.skip_white();
    let value = parser.value(0, Context::Top)?;
    parser.skip_white();
    if parser.at < text.len() {
        return Err(JsvError::TrailingText(parser.at));
    }
    Ok(value)
}

/// Where a value stands, which decides what ends an unquoted scalar.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    Map,
    List,
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.at..).and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip_white(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn expect(&mut self, wanted: char, expected: &'static str) -> Result<(), JsvError> {
        match self.bump() {
            Some(c) if c == wanted => Ok(()),
            Some(found) => Err(JsvError::Unexpected { found, at: self.at - found.len_utf8(), expected }),
            None => Err(JsvError::UnexpectedEnd(self.at)),
        }
    }

    fn value(&mut self, depth: usize, context: Context) -> Result<Value, JsvError> {
        match self.peek() {
            Some('{') => self.map(depth + 1),
            Some('[') => self.list(depth + 1),
            Some('"') => self.quoted().map(Value::String),
            _ => Ok(self.unquoted(context).map_or(Value::Null, Value::String)),
        }
    }

    fn map(&mut self, depth: usize) -> Result<Value, JsvError> {
        if depth > MAX_DEPTH {
            return Err(JsvError::TooDeep);
        }
        self.expect('{', "'{'")?;
        let mut map = Map::new();
        loop {
            self.skip_white();
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(map));
                }
                None => return Err(JsvError::UnexpectedEnd(self.at)),
                _ => {}
            }
            let key = if self.peek() == Some('"') { self.quoted()? } else { self.key()? };
            self.skip_white();
            self.expect(':', "':' after a key")?;
            self.skip_white();
            let value = self.value(depth, Context::Map)?;
            // Which of two values is meant is anyone's guess: refused, as the JSON reader does.
            if map.contains_key(&key) {
                return Err(JsvError::DuplicateKey(key));
            }
            map.insert(key, value);
            self.skip_white();
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(Value::Object(map)),
                Some(found) => {
                    return Err(JsvError::Unexpected { found, at: self.at - found.len_utf8(), expected: "',' or '}'" });
                }
                None => return Err(JsvError::UnexpectedEnd(self.at)),
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, JsvError> {
        if depth > MAX_DEPTH {
            return Err(JsvError::TooDeep);
        }
        self.expect('[', "'['")?;
        let mut items = Vec::new();
        self.skip_white();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_white();
            items.push(self.value(depth, Context::List)?);
            self.skip_white();
            match self.bump() {
                Some(',') => {}
                Some(']') => return Ok(Value::Array(items)),
                Some(found) => {
                    return Err(JsvError::Unexpected { found, at: self.at - found.len_utf8(), expected: "',' or ']'" });
                }
                None => return Err(JsvError::UnexpectedEnd(self.at)),
            }
        }
    }

    /// A map key without quotes: everything up to the `:`, trimmed.
    fn key(&mut self) -> Result<String, JsvError> {
        let start = self.at;
        while let Some(c) = self.peek() {
            match c {
                ':' => return Ok(self.text.get(start..self.at).unwrap_or_default().trim().to_owned()),
                ',' | '{' | '}' | '[' | ']' | '"' => {
                    return Err(JsvError::Unexpected { found: c, at: self.at, expected: "a key followed by ':'" });
                }
                _ => {
                    self.bump();
                }
            }
        }
        Err(JsvError::UnexpectedEnd(self.at))
    }

    /// A scalar without quotes, up to what ends it where it stands; `None` when empty.
    fn unquoted(&mut self, context: Context) -> Option<String> {
        let start = self.at;
        while let Some(c) = self.peek() {
            let ends = match context {
                Context::Top => false,
                Context::Map => matches!(c, ',' | '}'),
                Context::List => matches!(c, ',' | ']'),
            };
            if ends {
                break;
            }
            self.bump();
        }
        let text = self.text.get(start..self.at).unwrap_or_default().trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// A quoted string, `""` inside standing for one `"`.
    fn quoted(&mut self) -> Result<String, JsvError> {
        let start = self.at;
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                Some('"') if self.peek() == Some('"') => {
                    self.bump();
                    text.push('"');
                }
                Some('"') => return Ok(text),
                Some(c) => text.push(c),
                None => return Err(JsvError::UnterminatedString(start)),
            }
        }
    }
}

/// Writes a JSON value as JSV. Null members of maps are left out; a null elsewhere is
/// written as nothing.
pub fn write(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, false, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (key, item) in map.iter().filter(|(_, v)| !v.is_null()) {
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(key, true, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

fn needs_quotes(s: &str, key: bool) -> bool {
    s.is_empty()
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
        || s.chars().any(|c| matches!(c, '[' | ']' | '{' | '}' | ',' | '"' | '\r' | '\n') || (key && c == ':'))
}

fn write_string(s: &str, key: bool, out: &mut String) {
    if needs_quotes(s, key) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests;
