use proptest::prelude::*;
use serde_json::json;

use super::*;

#[test]
fn the_documented_examples_read_and_write() {
    assert_eq!(parse("[1,2,3,4,5]").unwrap(), json!(["1", "2", "3", "4", "5"]));
    assert_eq!(parse("{A:1,B:2,C:3,D:4}").unwrap(), json!({"A": "1", "B": "2", "C": "3", "D": "4"}));
    assert_eq!(parse("{Foo:Bar,Greet:Hello World!}").unwrap(), json!({"Foo": "Bar", "Greet": "Hello World!"}));
    assert_eq!(parse(r#"{Name:"Me, Junior"}"#).unwrap(), json!({"Name": "Me, Junior"}));
    assert_eq!(parse(r#"{Size:"2"" x 1"""}"#).unwrap(), json!({"Size": "2\" x 1\""}));
    assert_eq!(write(&json!({"Name": "Me, Junior"})), r#"{Name:"Me, Junior"}"#);
    assert_eq!(write(&json!({"Size": "2\" x 1\""})), r#"{Size:"2"" x 1"""}"#);
    assert_eq!(write(&json!({"Foo": "Bar", "Greet": "Hello World!"})), "{Foo:Bar,Greet:Hello World!}");
    assert_eq!(write(&json!({"A": 1, "B": 2.5, "C": true, "D": null, "E": [1, "x"]})), "{A:1,B:2.5,C:true,E:[1,x]}");
}

#[test]
fn pretty_printed_jsv_with_white_space_parses() {
    let text = "{\nSegment: Retail,\nDebtDate: 2025-01-25,\nAmountOutstanding: 1520.75,\nDebtMeta:\n{\nBranch: Cape Town\n},\nUrlToDocument: https://example.com/inv/1?a=b\n}";
    assert_eq!(
        parse(text).unwrap(),
        json!({"Segment": "Retail", "DebtDate": "2025-01-25", "AmountOutstanding": "1520.75",
            "DebtMeta": {"Branch": "Cape Town"}, "UrlToDocument": "https://example.com/inv/1?a=b"})
    );
}

#[test]
fn empty_values_are_null_and_empty_strings_are_quoted() {
    assert_eq!(parse("{A:,B:1}").unwrap(), json!({"A": null, "B": "1"}));
    assert_eq!(parse("{A:\"\"}").unwrap(), json!({"A": ""}));
    assert_eq!(write(&json!({"A": ""})), "{A:\"\"}");
    assert_eq!(parse("{}").unwrap(), json!({}));
    assert_eq!(parse("[]").unwrap(), json!([]));
}

#[test]
fn hostile_input_is_refused_quickly_and_cleanly() {
    assert!(matches!(parse(&"[".repeat(1024 * 1024)), Err(JsvError::TooDeep)));
    assert!(matches!(parse(&"{A:".repeat(100_000)), Err(JsvError::TooDeep)));
    assert!(matches!(parse("{A:\"never closed"), Err(JsvError::UnterminatedString(3))));
    assert!(matches!(parse("{A:1"), Err(JsvError::UnexpectedEnd(_))));
    assert!(matches!(parse("{A:1}}"), Err(JsvError::TrailingText(5))));
    assert!(matches!(parse("{A,B}"), Err(JsvError::Unexpected { .. })));
    assert!(matches!(parse("[1,2"), Err(JsvError::UnexpectedEnd(_))));
    assert_eq!(parse("{A:1,B:2,A:3}"), Err(JsvError::DuplicateKey("A".into())));
    assert_eq!(parse("{M:{A:1,\"A\":2}}"), Err(JsvError::DuplicateKey("A".into())));
    let huge = format!("{{N:{}}}", "9".repeat(500_000));
    assert_eq!(parse(&huge).unwrap()["N"].as_str().map(str::len), Some(500_000));
}

fn scalar() -> impl Strategy<Value = Value> {
    // Any text at all, including the characters JSV escapes and leading white space.
    any::<String>().prop_map(Value::String)
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_value_round_trips(value in value()) {
        let text = write(&value);
        prop_assert_eq!(parse(&text).unwrap(), value, "{}", text);
    }

    #[test]
    fn any_text_either_parses_or_is_refused_without_panicking(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn bracket_soup_never_panics(text in "[\\[\\]{}\",: a]{0,200}") {
        let _ = parse(&text);
    }
}
