//! Reading policy files: TOML text to [`PolicyDocument`] to [`Policy`], with
//! every problem placed at `file:line:column`.

use std::path::Path;

use crate::data_dir::DataDir;
use crate::document::PolicyDocument;
use crate::error::{Error, Location, Problem, Problems, Result};
use crate::location::{line_col, SpanIndex};
use crate::policy::Policy;

/// Parses TOML `src` (read from `file`, used in messages) into a document.
/// Syntax and type errors come back as one located [`Problem`].
pub fn parse_document(src: &str, file: &Path) -> Result<PolicyDocument> {
    toml::from_str(src).map_err(|e| {
        let location = e.span().map(|s| {
            let (line, column) = line_col(src, s.start);
            Location {
                file: file.to_path_buf(),
                line,
                column,
            }
        });
        Error::Invalid(Problems(vec![Problem {
            field: String::new(),
            location,
            message: e.message().trim_end().to_owned(),
        }]))
    })
}

/// Compiles TOML `src` read from `file`; exact-data files come from `data/`
/// in the file's directory ([`DataDir::beside`]). Every problem carries its
/// line and column.
pub fn compile_str(src: &str, file: &Path) -> Result<Policy> {
    compile_str_in(src, file, &DataDir::beside(file))
}

/// [`compile_str`] with exact-data files read from `data_dir`.
pub fn compile_str_in(src: &str, file: &Path, data_dir: &DataDir) -> Result<Policy> {
    let doc = parse_document(src, file)?;
    Policy::compile(doc, data_dir).map_err(|e| locate(e, src, file))
}

/// Reads and compiles the policy file at `path`, with its exact-data files
/// in `data/` beside it.
pub fn load_file(path: &Path) -> Result<Policy> {
    load_file_in(path, &DataDir::beside(path))
}

/// [`load_file`] with exact-data files read from `data_dir`.
pub fn load_file_in(path: &Path, data_dir: &DataDir) -> Result<Policy> {
    let src = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "reading policy file",
        path: path.to_path_buf(),
        source,
    })?;
    compile_str_in(&src, path, data_dir)
}

/// Adds `file:line:column` to the problems of `err`, resolving their field
/// paths in the TOML `src`.
pub fn locate(err: Error, src: &str, file: &Path) -> Error {
    match err {
        Error::Invalid(Problems(mut problems)) => {
            if let Some(index) = SpanIndex::new(src) {
                for p in &mut problems {
                    if p.location.is_none() && !p.field.is_empty() {
                        if let Some(span) = index.span(&p.field) {
                            let (line, column) = line_col(src, span.start);
                            p.location = Some(Location {
                                file: file.to_path_buf(),
                                line,
                                column,
                            });
                        }
                    }
                }
            }
            Error::Invalid(Problems(problems))
        }
        other => other,
    }
}

/// Serialises a document back to TOML (the admin API and history use this).
pub fn to_toml(doc: &PolicyDocument) -> String {
    toml::to_string_pretty(doc)
        .unwrap_or_else(|e| format!("# policy document could not be written as TOML: {e}\n"))
}
