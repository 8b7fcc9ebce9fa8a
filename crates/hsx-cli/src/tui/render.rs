//! Drawing the monitor from [`AppState`]; no I/O, so tests render into ratatui's
//! `TestBackend` and inspect the buffer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::state::{AppState, Conn};
use crate::cmd::render::{hex_addr, psw_flags};
use crate::output::{Tone, state_tone};

/// Style of a changed register value.
pub const CHANGED: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
/// Style of the PC line in the disassembly.
pub const PC_LINE: Style = Style::new().fg(Color::Black).bg(Color::Cyan);
/// Breakpoint marker style.
pub const BREAKPOINT: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);

/// Colour of a task state.
pub fn state_color(state: &str) -> Color {
    match state_tone(state) {
        Tone::Running => Color::Green,
        Tone::Ready => Color::Cyan,
        Tone::Paused => Color::Yellow,
        Tone::Waiting => Color::Blue,
        Tone::Faulted | Tone::Dead => Color::Red,
        Tone::Ended => Color::DarkGray,
        Tone::Plain => Color::Reset,
    }
}

/// The help line.
pub const HELP: &str = "? help  q quit  ↑↓/jk select  p pause  r resume  s step  c clock  [ ] cursor  b breakpoint  K kill";

/// The `?` overlay: every key and what the panes show.
pub const HELP_KEYS: &[(&str, &str)] = &[
    ("↑ ↓  j k", "select a task"),
    ("p / r", "pause / resume the selected task"),
    ("s  n", "step the selected task one instruction"),
    ("c", "start or stop the auto clock"),
    ("[ ]", "move the disassembly cursor"),
    ("b", "set or clear a breakpoint at the cursor"),
    ("K  K", "kill the selected task (press twice)"),
    ("? h", "this help (any key closes it)"),
    ("q  Esc  Ctrl-C", "quit"),
    ("", ""),
    ("Tasks", "* marks the task the scheduler runs next"),
    ("Registers", "changed values are highlighted"),
    ("Disassembly", "▶ PC, ● breakpoint, > cursor"),
];

/// Draws the whole monitor.
pub fn draw(f: &mut Frame<'_>, s: &AppState) {
    let [title, body, log, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(8),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_title(f, title, s);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
    let [tasks, mbox] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(left);
    // Registers wrap into fewer columns (and more rows) rather than lose some.
    let reg_rows = 16u16.div_ceil(reg_columns(right.width.saturating_sub(2)) as u16);
    let [regs, dis] =
        Layout::vertical([Constraint::Length(reg_rows + 3), Constraint::Min(3)]).areas(right);
    draw_tasks(f, tasks, s);
    draw_mailboxes(f, mbox, s);
    draw_registers(f, regs, s);
    draw_disasm(f, dis, s);
    draw_log(f, log, s);
    let help_text = if s.status.is_empty() {
        HELP.to_string()
    } else {
        format!("{}  |  {}", s.status, HELP)
    };
    f.render_widget(
        Paragraph::new(help_text).style(Style::new().add_modifier(Modifier::DIM)),
        help,
    );
    if s.show_help {
        draw_help(f);
    }
}

/// The key overlay, centred, as large as the keys need (clipped on tiny terminals).
fn draw_help(f: &mut Frame<'_>) {
    let area = f.area();
    let w = 58u16.min(area.width);
    let h = (HELP_KEYS.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let lines: Vec<Line<'_>> = HELP_KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{k:<16}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    f.render_widget(ratatui::widgets::Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys ")),
        r,
    );
}

fn draw_title(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    let (conn, style) = match &s.conn {
        Conn::Connecting => ("connecting…".to_string(), Style::new().fg(Color::Yellow)),
        Conn::Connected { events: true } => (
            "connected (events)".to_string(),
            Style::new().fg(Color::Green),
        ),
        Conn::Connected { events: false } => (
            "connected (polling)".to_string(),
            Style::new().fg(Color::Green),
        ),
        Conn::Disconnected { error } => (
            format!("disconnected, retrying — {error}"),
            Style::new().fg(Color::White).bg(Color::Red),
        ),
    };
    let line = Line::from(vec![
        Span::styled(
            " hsx tui ",
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::raw(format!(" {}  ", s.addr)),
        Span::styled(conn, style),
        Span::raw(format!("  {}", s.clock)),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// The task table's columns: header, width (APP is the minimum of a flexible column), and
/// the order in which they give way when the panel is narrow (numbers are dropped whole,
/// never cut).
const TASK_COLUMNS: [(&str, u16, u8); 6] = [
    ("PID", 4, 0),
    ("STATE", 11, 1),
    ("APP", 6, 3),
    ("PC", 6, 2),
    ("STEPS", 9, 4),
    ("EXIT", 6, 5),
];

/// Which of `cols` fit in `width` cells (one cell between columns), keeping the lowest
/// ranks first; at least the first-ranked column is always kept.
fn fitting_columns(cols: &[(&str, u16, u8)], width: u16) -> Vec<bool> {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| cols[i].2);
    let mut keep = vec![false; cols.len()];
    let mut used = 0u16;
    for (n, i) in order.into_iter().enumerate() {
        let need = cols[i].1 + u16::from(n > 0);
        if n > 0 && used + need > width {
            break;
        }
        used += need;
        keep[i] = true;
    }
    keep
}

fn draw_tasks(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    let keep = fitting_columns(&TASK_COLUMNS, area.width.saturating_sub(2));
    let pick = |cells: Vec<Cell<'static>>| -> Row<'static> {
        Row::new(
            cells
                .into_iter()
                .zip(&keep)
                .filter_map(|(c, k)| k.then_some(c)),
        )
    };
    let rows: Vec<Row> = s
        .tasks
        .iter()
        .map(|t| {
            let mark = if Some(t.pid) == s.current_pid {
                "*"
            } else {
                " "
            };
            pick(vec![
                Cell::from(format!("{mark}{:>3}", t.pid)),
                Cell::from(t.state.clone()).style(Style::new().fg(state_color(&t.state))),
                Cell::from(t.app.clone()),
                Cell::from(
                    t.pc.map(|p| hex_addr(u64::from(p)))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::from(t.steps.map(|n| n.to_string()).unwrap_or_else(|| "-".into())),
                Cell::from(t.exit.clone()),
            ])
        })
        .collect();
    let widths: Vec<Constraint> = TASK_COLUMNS
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((head, w, _), _)| {
            if *head == "APP" {
                Constraint::Min(*w)
            } else {
                Constraint::Length(*w)
            }
        })
        .collect();
    let header = pick(TASK_COLUMNS.iter().map(|c| Cell::from(c.0)).collect());
    let title = if s.tasks.is_empty() {
        " Tasks (none) ".to_string()
    } else {
        format!(" Tasks ({}) ", s.tasks.len())
    };
    let table = Table::new(rows, widths)
        .header(header.style(Style::new().add_modifier(Modifier::BOLD)))
        .block(Block::bordered().title(title))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut ts = TableState::default();
    ts.select(
        s.selected
            .and_then(|p| s.tasks.iter().position(|t| t.pid == p)),
    );
    f.render_stateful_widget(table, area, &mut ts);
}

/// Register columns that fit in `width` cells: each is `R12 0000002A` (12 cells) with two
/// cells between, at most 4.
fn reg_columns(width: u16) -> usize {
    usize::from((width + 2) / 14).clamp(1, 4)
}

fn draw_registers(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    let Some(r) = &s.regs else {
        let msg = if s.selected.is_some() {
            "(no registers)"
        } else {
            "(no task selected)"
        };
        f.render_widget(
            Paragraph::new(msg).block(Block::bordered().title(" Registers ")),
            area,
        );
        return;
    };
    let mut lines = Vec::new();
    let cols = reg_columns(area.width.saturating_sub(2));
    for row in 0..16usize.div_ceil(cols) {
        let mut spans = Vec::new();
        for col in 0..cols {
            let i = row * cols + col;
            if i >= 16 {
                break;
            }
            if col > 0 {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(
                format!("R{i:<2} "),
                Style::new().fg(Color::DarkGray),
            ));
            let v = r.regs.get(i).copied().unwrap_or(0);
            let style = if r.changed.get(i).copied().unwrap_or(false) {
                CHANGED
            } else {
                Style::new()
            };
            spans.push(Span::styled(format!("{v:08X}"), style));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(format!(
        "PC  {}  SP  {}  PSW {:02X} [{}]",
        hex_addr(u64::from(r.pc)),
        hex_addr(u64::from(r.sp)),
        r.psw,
        psw_flags(u64::from(r.psw))
    )));
    let title = format!(" Registers — pid {} ", r.pid);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

fn draw_disasm(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    let block = Block::bordered().title(" Disassembly ");
    if s.disasm.is_empty() {
        f.render_widget(Paragraph::new("(no code)").block(block), area);
        return;
    }
    let pc = s
        .regs
        .as_ref()
        .map(|r| r.pc)
        .or_else(|| s.selected_task().and_then(|t| t.pc));
    let cursor = s.cursor_addr();
    let bps = s
        .selected_task()
        .map(|t| t.breakpoints.as_slice())
        .unwrap_or(&[]);
    let mut lines = Vec::new();
    for l in &s.disasm {
        if let Some(label) = &l.label {
            lines.push(Line::from(Span::styled(
                format!("{label}:"),
                Style::new().fg(Color::Magenta),
            )));
        }
        let addr = u32::try_from(l.pc).ok();
        let is_pc = addr.is_some() && addr == pc;
        let bp = addr.is_some_and(|a| bps.contains(&a));
        let cur = if addr.is_some() && addr == cursor && s.cursor.is_some() {
            ">"
        } else {
            " "
        };
        let mut spans = vec![
            Span::raw(cur),
            Span::styled(if bp { "●" } else { " " }, BREAKPOINT),
            Span::raw(if is_pc { "▶" } else { " " }),
            Span::raw(format!(" {}  {:<8}  {}", hex_addr(l.pc), l.word, l.text)),
        ];
        if let Some(n) = &l.note {
            spans.push(Span::styled(
                format!("  ; {n}"),
                Style::new().fg(Color::DarkGray),
            ));
        }
        let mut line = Line::from(spans);
        if is_pc {
            line = line.style(PC_LINE);
        }
        lines.push(line);
    }
    // Keep the PC (or cursor) line in view.
    let focus = cursor.or(pc);
    let inner_h = area.height.saturating_sub(2) as usize;
    let focus_idx = focus
        .and_then(|a| {
            let mut idx = 0usize;
            for l in &s.disasm {
                if l.label.is_some() {
                    idx += 1;
                }
                if u32::try_from(l.pc).ok() == Some(a) {
                    return Some(idx);
                }
                idx += 1;
            }
            None
        })
        .unwrap_or(0);
    let scroll = focus_idx
        .saturating_sub(inner_h / 2)
        .min(lines.len().saturating_sub(inner_h));
    let para = Paragraph::new(lines)
        .block(block)
        .scroll((u16::try_from(scroll).unwrap_or(0), 0));
    f.render_widget(para, area);
}

fn draw_mailboxes(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    // ID, PID (the owner), USED and MSGS are fixed; the name gets the rest (one space
    // between columns): 11 columns at 80x24, enough for `stdio.out@12`-style names.
    const FIXED: u16 = 3 + 3 + 7 + 4 + 4;
    let name_w = usize::from(area.width.saturating_sub(2 + FIXED)).max(6);
    let rows: Vec<Row> = s
        .mailboxes
        .iter()
        .map(|m| {
            Row::new(vec![
                Cell::from(m.id.to_string()),
                Cell::from(fit_name(&m.name, name_w)),
                Cell::from(m.owner.clone()),
                Cell::from(format!("{}/{}", m.used, m.capacity)),
                Cell::from(m.depth.to_string()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(3),
        Constraint::Length(7),
        Constraint::Length(4),
    ];
    let table = Table::new(rows, widths)
        .header(
            Row::new(["ID", "NAME", "PID", "USED", "MSGS"])
                .style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(Block::bordered().title(" Mailboxes "));
    f.render_widget(table, area);
}

/// A mailbox name in `w` columns that keeps what tells names apart: the `svc:` prefix goes
/// first (`svc:stdio.out` becomes `stdio.out`), then the middle (`app:…r@3`).
fn fit_name(name: &str, w: usize) -> String {
    if name.chars().count() <= w {
        return name.to_string();
    }
    let name = name.strip_prefix("svc:").unwrap_or(name);
    let n = name.chars().count();
    if n <= w {
        return name.to_string();
    }
    let head = w.saturating_sub(1) / 2;
    let tail = w.saturating_sub(1 + head);
    let mut out: String = name.chars().take(head).collect();
    out.push('…');
    out.extend(name.chars().skip(n - tail));
    out
}

fn draw_log(f: &mut Frame<'_>, area: Rect, s: &AppState) {
    let h = area.height.saturating_sub(2) as usize;
    let skip = s.log.len().saturating_sub(h);
    let lines: Vec<Line> = s
        .log
        .iter()
        .skip(skip)
        .map(|l| Line::from(l.as_str()))
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Output / log ")),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::AppState;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use serde_json::json;

    #[test]
    fn mailbox_names_keep_what_tells_them_apart() {
        assert_eq!(fit_name("app:demo", 10), "app:demo");
        assert_eq!(fit_name("svc:stdio.out", 10), "stdio.out");
        assert_eq!(fit_name("svc:stdio.err", 10), "stdio.err");
        assert_eq!(fit_name("app:controller@12", 9), "app:…r@12");
        assert_eq!(fit_name("app:controller@12", 9).chars().count(), 9);
        assert_eq!(fit_name("abcdef", 1), "…");
    }

    fn sample() -> AppState {
        let mut s = AppState::new("127.0.0.1:9998");
        s.conn = Conn::Connected { events: true };
        s.apply_ps(&json!({"tasks":{"current_pid":1,"tasks":[
            {"pid":1,"state":"paused","app_name":"main","pc":4,"accounted_steps":1,"breakpoints":[8]},
            {"pid":2,"state":"running","app_name":"blink","pc":64,"accounted_steps":120}
        ]}}));
        let regs = |r3: u32| json!({"registers":{"pc":4,"sp":65520,"flags":1,"regs":[0,0,0,r3,0,0,0,0,0,0,0,0,0,0,0,0xFFF0]}});
        s.apply_regs(1, &regs(0));
        s.apply_regs(1, &regs(0x2A));
        s.apply_disasm(&json!({"disasm":{"instructions":[
            {"pc":0,"word":0x1030_002Au32,"mnemonic":"LDI","operands":"R3, 42","label":"main"},
            {"pc":4,"word":0x0000_0000u32,"mnemonic":"NOP","operands":""},
            {"pc":8,"word":0x2100_0000u32,"mnemonic":"JMP","operands":"0x0000","target_symbol":"main"}
        ]}}));
        s.apply_mailboxes(&json!({"descriptors":[{"descriptor_id":3,"namespace":1,"name":"stdio.out","owner_pid":1,"capacity":64,"bytes_used":5,"queue_depth":1}]}));
        s.push_output(1, false, "hello\n");
        s
    }

    fn render(s: &AppState, w: u16, h: u16) -> Buffer {
        let mut term = match Terminal::new(TestBackend::new(w, h)) {
            Ok(t) => t,
            Err(e) => panic!("test backend: {e}"),
        };
        if let Err(e) = term.draw(|f| draw(f, s)) {
            panic!("draw: {e}");
        }
        term.backend().buffer().clone()
    }

    fn lines(b: &Buffer) -> Vec<String> {
        let a = b.area;
        (0..a.height)
            .map(|y| {
                (0..a.width)
                    .map(|x| b[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }

    /// Position (x, y) of the first occurrence of `needle` (single-width text only).
    fn find(b: &Buffer, needle: &str) -> Option<(u16, u16)> {
        for (y, line) in lines(b).iter().enumerate() {
            if let Some(byte) = line.find(needle) {
                let x = line[..byte].chars().count();
                return Some((x as u16, y as u16));
            }
        }
        None
    }

    #[test]
    fn question_mark_opens_a_key_overlay_at_80x24_and_any_key_closes_it() {
        use super::super::state::Key;
        let mut s = sample();
        assert!(
            lines(&render(&s, 80, 24))
                .last()
                .is_some_and(|l| l.starts_with("? help"))
        );
        assert_eq!(s.on_key(Key::Char('?')), None);
        let text = lines(&render(&s, 80, 24)).join("\n");
        assert!(text.contains(" keys "), "{text}");
        assert!(
            text.contains("set or clear a breakpoint at the cursor"),
            "{text}"
        );
        // Esc closes the overlay instead of quitting.
        assert_eq!(s.on_key(Key::Esc), None);
        assert!(!lines(&render(&s, 80, 24)).join("\n").contains(" keys "));
        assert_eq!(s.on_key(Key::Esc), Some(super::super::state::Action::Quit));
    }

    #[test]
    fn task_list_shows_states_and_selection() {
        let b = render(&sample(), 120, 40);
        let text = lines(&b).join("\n");
        assert!(text.contains("Tasks (2)"), "{text}");
        assert!(text.contains("*  1"), "{text}");
        let (x, y) = find(&b, "paused").unwrap_or_default();
        assert_eq!(b[(x, y)].fg, Color::Yellow);
        // The selected row (pid 1) is reversed; pid 2's row is not.
        assert!(b[(x, y)].modifier.contains(Modifier::REVERSED));
        let (x2, y2) = find(&b, "running").unwrap_or_default();
        assert_eq!(b[(x2, y2)].fg, Color::Green);
        assert!(!b[(x2, y2)].modifier.contains(Modifier::REVERSED));
        assert!(text.contains("blink"));
    }

    #[test]
    fn registers_highlight_changed_values() {
        let b = render(&sample(), 120, 40);
        let (x, y) = find(&b, "0000002A").unwrap_or_default();
        assert_eq!(b[(x, y)].bg, Color::Yellow, "R3 changed");
        let (x0, y0) = find(&b, "R0").map(|(x, y)| (x + 4, y)).unwrap_or_default();
        assert_eq!(b[(x0, y0)].symbol(), "0");
        assert_ne!(b[(x0, y0)].bg, Color::Yellow, "R0 unchanged");
        let text = lines(&b).join("\n");
        assert!(text.contains("Registers — pid 1"));
        assert!(text.contains("PSW 01 [Z---]"), "{text}");
        assert!(text.contains("0000FFF0"));
    }

    #[test]
    fn disassembly_marks_pc_breakpoints_and_labels() {
        let b = render(&sample(), 120, 40);
        let text = lines(&b).join("\n");
        assert!(text.contains("main:"), "{text}");
        assert!(text.contains("LDI R3, 42"));
        assert!(text.contains("; -> main"));
        let (x, y) = find(&b, "0x0004  00000000  NOP").unwrap_or_default();
        assert_eq!(b[(x, y)].bg, Color::Cyan, "PC line highlighted");
        let bp_line = lines(&b)
            .into_iter()
            .find(|l| l.contains("0x0008"))
            .unwrap_or_default();
        assert!(bp_line.contains("● "), "{bp_line}");
        let (bx, by) = find(&b, "●").unwrap_or_default();
        assert_eq!(b[(bx, by)].fg, Color::Red);
    }

    #[test]
    fn log_mailboxes_and_connection_state() {
        let mut s = sample();
        let b = render(&s, 120, 40);
        let text = lines(&b).join("\n");
        assert!(text.contains("[1] hello"));
        assert!(text.contains("svc:stdio.out"));
        assert!(text.contains("5/64"));
        assert!(text.contains("connected (events)"));
        assert!(text.contains("q quit"));
        s.conn = Conn::Disconnected {
            error: "connection refused".into(),
        };
        let text = lines(&render(&s, 120, 40)).join("\n");
        assert!(text.contains("disconnected, retrying"), "{text}");
    }

    #[test]
    fn at_80_by_24_columns_drop_whole_and_numbers_stay_whole() {
        let mut s = sample();
        s.apply_ps(&json!({"tasks":{"current_pid":1,"tasks":[
            {"pid":1,"state":"paused","app_name":"main","pc":164,"accounted_steps":123456,"breakpoints":[]}
        ]}}));
        let text = lines(&render(&s, 80, 24)).join("\n");
        assert!(text.contains("0x00A4"), "{text}");
        assert!(text.contains(" PC"), "{text}");
        // All sixteen registers are shown, in three columns.
        for r in ["R3 ", "R7 ", "R11", "R15"] {
            assert!(text.contains(r), "{r} missing: {text}");
        }
        // Wide enough, everything is there.
        let text = lines(&render(&s, 160, 40)).join("\n");
        assert!(text.contains("123456") && text.contains("EXIT"), "{text}");
        // The fitting itself: the narrowest keeps PID, then STATE, then PC.
        assert_eq!(
            fitting_columns(&TASK_COLUMNS, 23),
            vec![true, true, false, true, false, false]
        );
        assert!(fitting_columns(&TASK_COLUMNS, 1)[0]);
    }

    #[test]
    fn tiny_and_empty_screens_do_not_panic() {
        let empty = AppState::new("a");
        for (w, h) in [(1, 1), (10, 5), (40, 12), (200, 60)] {
            let _ = render(&empty, w, h);
            let _ = render(&sample(), w, h);
        }
        let text = lines(&render(&empty, 100, 30)).join("\n");
        assert!(text.contains("Tasks (none)"));
        assert!(text.contains("(no task selected)"));
    }
}
