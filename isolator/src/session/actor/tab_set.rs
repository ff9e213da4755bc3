//! The session's tabs as an owned part: which exist, which one is shown,
//! the next id to hand out, and which tab is shown after the shown one
//! closes. Generic over the tab type so it is tested without a browser.

/// Something with a tab id.
pub(in crate::session) trait Tabbed {
    /// The id shown to the client.
    fn tab_id(&self) -> u16;
}

impl Tabbed for crate::session::tab::Tab {
    fn tab_id(&self) -> u16 {
        self.id
    }
}

/// The tabs of a session, in the order they opened.
pub(in crate::session) struct TabSet<T> {
    tabs: Vec<T>,
    active: u16,
    next: u16,
}

/// What closing a tab left.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::session) enum Closed {
    /// No such tab.
    Unknown,
    /// It was the last one.
    Last,
    /// Another tab, not shown, closed.
    Other,
    /// The shown tab closed; this one is to be shown now.
    ShowNext(u16),
}

impl<T: Tabbed> TabSet<T> {
    /// A set holding `first`, shown.
    pub fn new(first: T) -> Self {
        let active = first.tab_id();
        TabSet {
            tabs: vec![first],
            active,
            next: active.wrapping_add(1),
        }
    }

    /// The id for the next tab.
    pub fn next_id(&mut self) -> u16 {
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        id
    }

    /// Adds a tab (not shown yet).
    pub fn push(&mut self, tab: T) {
        self.tabs.push(tab);
    }

    /// The tab `id`.
    pub fn get(&self, id: u16) -> Option<&T> {
        self.tabs.iter().find(|t| t.tab_id() == id)
    }

    /// The tab `id`, to change.
    pub fn get_mut(&mut self, id: u16) -> Option<&mut T> {
        self.tabs.iter_mut().find(|t| t.tab_id() == id)
    }

    /// The shown tab's id.
    pub fn active(&self) -> u16 {
        self.active
    }

    /// Shows tab `id`; `false` when there is no such tab.
    pub fn show(&mut self, id: u16) -> bool {
        if self.get(id).is_none() {
            return false;
        }
        self.active = id;
        true
    }

    /// Every tab, in opening order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.tabs.iter()
    }

    /// Every tab, to change.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.tabs.iter_mut()
    }

    /// How many tabs there are.
    pub fn len(&self) -> usize {
        self.tabs.len()
    }

    /// Removes tab `id` and says what to show next: the tab before it, or
    /// the first when it was the first.
    pub fn close(&mut self, id: u16) -> Closed {
        let Some(pos) = self.tabs.iter().position(|t| t.tab_id() == id) else {
            return Closed::Unknown;
        };
        self.tabs.remove(pos);
        if self.tabs.is_empty() {
            return Closed::Last;
        }
        if id != self.active {
            return Closed::Other;
        }
        let next = self.tabs[pos.saturating_sub(1).min(self.tabs.len() - 1)].tab_id();
        // Nothing is shown until the caller shows `next`.
        self.active = u16::MAX;
        Closed::ShowNext(next)
    }

    /// Drops every tab (session end).
    pub fn clear(&mut self) {
        self.tabs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct T(u16);
    impl Tabbed for T {
        fn tab_id(&self) -> u16 {
            self.0
        }
    }

    fn set(ids: &[u16]) -> TabSet<T> {
        let mut s = TabSet::new(T(ids[0]));
        for id in &ids[1..] {
            let _ = s.next_id();
            s.push(T(*id));
        }
        s
    }

    #[test]
    fn ids_are_handed_out_in_turn() {
        let mut s = TabSet::new(T(0));
        assert_eq!((s.next_id(), s.next_id()), (1, 2));
        assert_eq!(s.active(), 0);
    }

    #[test]
    fn closing_the_shown_tab_shows_the_one_before_it() {
        let mut s = set(&[0, 1, 2]);
        assert!(s.show(2));
        assert_eq!(s.close(2), Closed::ShowNext(1));
        assert!(s.show(1));
        assert_eq!(s.close(0), Closed::Other);
        assert_eq!(s.active(), 1);
        assert_eq!(s.close(1), Closed::Last);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn closing_the_first_shown_tab_shows_the_next_first() {
        let mut s = set(&[0, 1]);
        assert_eq!(s.close(0), Closed::ShowNext(1));
    }

    #[test]
    fn unknown_tabs_are_neither_shown_nor_closed() {
        let mut s = set(&[0, 1]);
        assert!(!s.show(9));
        assert_eq!(s.close(9), Closed::Unknown);
        assert_eq!((s.active(), s.len()), (0, 2));
    }
}
