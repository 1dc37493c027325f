//! Cursor paging, as platforms page lists (Pinterest's `bookmark`, Meta's `after`): the cursor
//! names the first item of the next page, so items added between two requests neither repeat
//! nor vanish, and a client cannot compute a cursor it was not given.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One page of a list.
#[derive(Debug)]
pub struct Page<'a, T> {
    pub items: Vec<&'a T>,
    /// The cursor for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// A cursor the fake never issued for this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCursor;

/// Up to `size` items of `items` (already in the platform's order), from the one `cursor` names;
/// the first page without a cursor. An empty cursor counts as none, as clients often send
/// `bookmark=` on the first request.
pub fn page_of<'a, T>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> &str,
    size: usize,
    cursor: Option<&str>,
) -> Result<Page<'a, T>, UnknownCursor> {
    let start = match cursor.filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(cursor) => Some(decode(cursor).ok_or(UnknownCursor)?),
    };
    let mut remaining = items.into_iter().peekable();
    if let Some(start) = &start {
        while remaining.next_if(|item| key(item) != start).is_some() {}
        if remaining.peek().is_none() {
            return Err(UnknownCursor);
        }
    }
    let items: Vec<&T> = remaining.by_ref().take(size).collect();
    let next = remaining.next().map(|item| encode(key(item)));
    Ok(Page { items, next })
}

fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

fn decode(cursor: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_pages(items: &[String], size: usize) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = page_of(items, |item| item.as_str(), size, cursor.as_deref())
                .expect("the cursor came from the previous page");
            pages.push(page.items.into_iter().cloned().collect());
            match page.next {
                Some(next) => cursor = Some(next),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_cover_every_item_once_in_order() {
        let items: Vec<String> = (1..=5).map(|n| n.to_string()).collect();
        assert_eq!(
            all_pages(&items, 2),
            [vec!["1", "2"], vec!["3", "4"], vec!["5"]]
        );
        assert_eq!(all_pages(&items, 5), [vec!["1", "2", "3", "4", "5"]]);
        assert_eq!(all_pages(&[], 3), [Vec::<String>::new()]);
    }

    #[test]
    fn a_cursor_that_was_never_issued_is_refused() {
        fn key(item: &String) -> &str {
            item
        }
        let items: Vec<String> = vec!["1".into(), "2".into()];
        assert!(page_of(&items, key, 1, Some("not base64!")).is_err());
        assert!(page_of(&items, key, 1, Some(&encode("9"))).is_err());
        let empty = page_of(&items, key, 1, Some("")).expect("empty means first page");
        assert_eq!(empty.items, [&items[0]]);
    }
}
