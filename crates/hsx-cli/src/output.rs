//! Human output helpers: aligned tables and task-state colours.

use std::io::IsTerminal;

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn color_enabled() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// How a task state is coloured, shared by the ANSI output and the TUI so the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Running (green).
    Running,
    /// Ready to run (cyan).
    Ready,
    /// Paused or stopped (yellow).
    Paused,
    /// Sleeping or waiting on a mailbox (blue).
    Waiting,
    /// Faulted (bold red).
    Faulted,
    /// Returned normally (dim).
    Ended,
    /// Terminated or killed (red).
    Dead,
    /// Anything else: no colour.
    Plain,
}

/// The [`Tone`] of a wire task state.
pub fn state_tone(state: &str) -> Tone {
    match state {
        "running" => Tone::Running,
        "ready" => Tone::Ready,
        "paused" | "stopped" => Tone::Paused,
        "sleeping" | "waiting_mbx" | "wait_mbx" => Tone::Waiting,
        "faulted" => Tone::Faulted,
        "returned" | "exited" => Tone::Ended,
        "terminated" | "killed" | "dead" => Tone::Dead,
        _ => Tone::Plain,
    }
}

/// ANSI SGR colour of a task state.
pub fn state_sgr(state: &str) -> &'static str {
    match state_tone(state) {
        Tone::Running => "32",
        Tone::Ready => "36",
        Tone::Paused => "33",
        Tone::Waiting => "34",
        Tone::Faulted => "1;31",
        Tone::Ended => "2",
        Tone::Dead => "31",
        Tone::Plain => "",
    }
}

/// `text` wrapped in the SGR code when colour is on.
pub fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color && !sgr.is_empty() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Pad on the right.
    Left,
    /// Pad on the left (numbers).
    Right,
}

/// A cell: text plus an optional colour applied after padding, so widths stay right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    text: String,
    sgr: &'static str,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, sgr: "" }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell {
            text: text.to_string(),
            sgr: "",
        }
    }
}

impl Cell {
    /// A coloured cell.
    pub fn colored(text: impl Into<String>, sgr: &'static str) -> Cell {
        Cell {
            text: text.into(),
            sgr,
        }
    }
}

/// An aligned text table with a header row.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<(&'static str, Align)>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(headers: &[(&'static str, Align)]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra cells ignored).
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether no rows were added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders with two spaces between columns; the last column is not padded.
    pub fn render(&self, color: bool) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self
            .headers
            .iter()
            .map(|(h, _)| h.chars().count())
            .collect();
        for row in &self.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.text.chars().count());
                }
            }
        }
        let mut out = String::new();
        let header: Vec<Cell> = self.headers.iter().map(|(h, _)| Cell::from(*h)).collect();
        self.line(&mut out, &header, &widths, color, true);
        for row in &self.rows {
            self.line(&mut out, row, &widths, color, false);
        }
        out
    }

    fn line(&self, out: &mut String, cells: &[Cell], widths: &[usize], color: bool, header: bool) {
        let n = self.headers.len();
        let mut line = String::new();
        for (i, ((_, align), w)) in self.headers.iter().zip(widths).enumerate() {
            let empty = Cell::from("");
            let cell = cells.get(i).unwrap_or(&empty);
            let pad = w.saturating_sub(cell.text.chars().count());
            let last = i + 1 == n;
            let sgr = if header { "1" } else { cell.sgr };
            let text = paint(&cell.text, sgr, color);
            if i > 0 {
                line.push_str("  ");
            }
            match align {
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(&text);
                }
                Align::Left => {
                    line.push_str(&text);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_and_colours_after_padding() {
        let mut t = Table::new(&[
            ("PID", Align::Right),
            ("STATE", Align::Left),
            ("APP", Align::Left),
        ]);
        t.row(vec![
            "1".into(),
            Cell::colored("running", state_sgr("running")),
            "main".into(),
        ]);
        t.row(vec![
            "12".into(),
            Cell::colored("paused", state_sgr("paused")),
            "blink_#0".into(),
        ]);
        assert_eq!(
            t.render(false),
            "PID  STATE    APP\n  1  running  main\n 12  paused   blink_#0\n"
        );
        let colored = t.render(true);
        assert!(colored.contains("\x1b[32mrunning\x1b[0m  main"));
        assert!(colored.contains("\x1b[33mpaused\x1b[0m   blink_#0"));
    }

    #[test]
    fn paint_is_identity_without_colour() {
        assert_eq!(paint("x", "31", false), "x");
        assert_eq!(paint("x", "", true), "x");
        assert_eq!(state_sgr("faulted"), "1;31");
    }

    #[test]
    fn every_state_spelling_has_one_tone() {
        assert_eq!(state_tone("waiting_mbx"), state_tone("wait_mbx"));
        assert_eq!(state_tone("exited"), Tone::Ended);
        assert_eq!(state_tone("dead"), Tone::Dead);
        assert_eq!(state_tone("bogus"), Tone::Plain);
        assert_eq!(state_sgr("bogus"), "");
    }
}
