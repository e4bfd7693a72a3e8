//! A migration file split into its statements. sqlparser's PostgreSQL tokenizer reads the
//! file, so a semicolon ends a statement only where PostgreSQL would end one there: not in a
//! string (`'a;b'`, `E'\';'`), a quoted name, a dollar-quoted body (`$$ ...; $$`, `$fn$ ...
//! $fn$`) or a comment (`-- ;`, nested `/* ; */`).

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, Tokenizer};

/// Why a migration file cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError(pub(crate) String);

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The statements of `sql`, in order, each without its closing semicolon and trimmed; what
/// holds only comments and whitespace is no statement. A function body written
/// `BEGIN ATOMIC ... END` holds semicolons that end no statement, and is refused: write it
/// dollar-quoted.
pub(crate) fn statements(sql: &str) -> Result<Vec<&str>, SplitError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|error| SplitError(format!("the migration cannot be read as SQL: {error}")))?;
    let lines = line_starts(sql);
    let mut statements = Vec::new();
    let (mut start, mut code) = (0, false);
    let mut previous: Option<&Token> = None;
    for token in &tokens {
        match &token.token {
            Token::Whitespace(_) => continue,
            Token::SemiColon => {
                let at = offset(sql, &lines, token.span.start)?;
                push(&mut statements, sql.get(start..at), code);
                (start, code) = (at + 1, false);
            }
            Token::Word(word) if word.keyword == Keyword::ATOMIC && is_begin(previous) => {
                return Err(SplitError(format!(
                    "a function body written BEGIN ATOMIC{} holds semicolons that end no statement: write it dollar-quoted ($$ ... $$)",
                    token.span.start
                )));
            }
            _ => code = true,
        }
        previous = Some(&token.token);
    }
    push(&mut statements, sql.get(start..), code);
    Ok(statements)
}

fn push<'a>(statements: &mut Vec<&'a str>, text: Option<&'a str>, code: bool) {
    if let Some(text) = text.filter(|_| code) {
        statements.push(text.trim());
    }
}

fn is_begin(token: Option<&Token>) -> bool {
    matches!(token, Some(Token::Word(word)) if word.keyword == Keyword::BEGIN)
}

/// The byte offset at which each line starts.
fn line_starts(sql: &str) -> Vec<usize> {
    std::iter::once(0).chain(sql.match_indices('\n').map(|(at, _)| at + 1)).collect()
}

/// The byte offset of a tokenizer location: lines and columns count from 1, columns in
/// characters.
fn offset(sql: &str, lines: &[usize], location: Location) -> Result<usize, SplitError> {
    let lost = || SplitError(format!("the tokenizer named a place{location} that is not in the migration"));
    let line = usize::try_from(location.line).map_err(|_| lost())?;
    let column = usize::try_from(location.column).map_err(|_| lost())?;
    let start = *line.checked_sub(1).and_then(|line| lines.get(line)).ok_or_else(lost)?;
    let rest = sql.get(start..).ok_or_else(lost)?;
    let within = rest.char_indices().nth(column.checked_sub(1).ok_or_else(lost)?).ok_or_else(lost)?.0;
    Ok(start + within)
}

/// Whether `text` is one statement that ends no other: what a prepared statement can hold.
#[cfg(test)]
fn single(text: &str) -> bool {
    statements(text).map(|found| found == [text]).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn semicolons_in_strings_names_bodies_and_comments_end_nothing() {
        let sql = "-- a comment; with a semicolon\n\
                   CREATE TABLE \"odd;name\" (a text DEFAULT 'x;y', b text DEFAULT E'\\';');\n\
                   /* a /* nested; */ comment; */\n\
                   CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.a := 'z;';\n    RETURN NEW;\nEND\n$$;\n\
                   CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;\
                   SELECT 'naïve; ünïcode' ; SELECT 2\n-- trailing; comment\n";
        let found = statements(sql).unwrap();
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].starts_with("-- a comment; with a semicolon\nCREATE TABLE \"odd;name\""), "{}", found[0]);
        assert!(found[0].ends_with("E'\\';')"), "{}", found[0]);
        assert!(found[1].starts_with("/* a /* nested; */ comment; */\nCREATE FUNCTION f()"), "{}", found[1]);
        assert!(found[1].ends_with("END\n$$"), "{}", found[1]);
        assert_eq!(found[2], "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$");
        assert_eq!(found[3], "SELECT 'naïve; ünïcode'");
        assert_eq!(found[4], "SELECT 2\n-- trailing; comment");
    }

    #[test]
    fn comments_and_empty_statements_are_no_statement() {
        assert_eq!(statements("").unwrap(), Vec::<&str>::new());
        assert_eq!(statements("-- nothing; at all\n  ;; /* ; */ ;\n").unwrap(), Vec::<&str>::new());
        assert_eq!(statements("SELECT 1;").unwrap(), ["SELECT 1"]);
        assert!(single("SELECT 1"));
        assert!(!single("SELECT 1; SELECT 2"));
    }

    #[test]
    fn a_body_of_begin_atomic_is_refused_and_an_unclosed_quote_too() {
        let atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;";
        assert!(statements(atomic).unwrap_err().0.contains("BEGIN ATOMIC"));
        assert!(statements("SELECT 'unclosed;").is_err());
        assert!(statements("SELECT $$ unclosed;").is_err());
        // A transaction's BEGIN is no body.
        assert_eq!(statements("BEGIN; SELECT 1; COMMIT;").unwrap(), ["BEGIN", "SELECT 1", "COMMIT"]);
    }

    /// Every real migration: split, each part is a statement of its own, and the parts are
    /// the file's text in order, with nothing but semicolons, whitespace and comments
    /// between them.
    #[test]
    fn every_migration_splits_into_statements_that_cover_it() {
        let mut total = 0;
        for migration in crate::migrate::MIGRATOR.iter() {
            let sql: &str = &migration.sql;
            let found = statements(sql).unwrap();
            assert!(!found.is_empty(), "migration {} has no statement", migration.version);
            let mut rest = sql;
            for statement in &found {
                assert!(single(statement), "migration {}: {statement:?} is not one statement", migration.version);
                let at = rest.find(statement).unwrap();
                let between = statements(&rest[..at]).unwrap();
                assert!(between.is_empty(), "migration {}: {between:?} was skipped", migration.version);
                rest = &rest[at + statement.len()..];
            }
            assert!(statements(rest).unwrap().is_empty(), "migration {}: {rest:?} was skipped", migration.version);
            total += found.len();
        }
        // 0011 alone: a constraint dropped, a dollar-quoted function, a trigger, a default dropped.
        let citus = crate::migrate::MIGRATOR.iter().find(|m| m.version == 11).unwrap();
        assert_eq!(statements(&citus.sql).unwrap().len(), 4);
        assert!(total >= 50, "only {total} statements in every migration");
    }
}
