//! The page's key-value storage: `localStorage` in the browser, memory in tests. Every saved
//! document of the app (scan data, bind keys, profiles) goes through this one interface.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A string key-value store.
pub trait KeyValue {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`; an error when the store refuses (quota, private mode).
    fn set(&self, key: &str, value: &str) -> Result<(), String>;
}

/// An in-memory store. Clones share their contents, so a test can "reload" over the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore(pub Rc<RefCell<BTreeMap<String, String>>>);

impl KeyValue for MemoryStore {
    fn get(&self, key: &str) -> Option<String> {
        self.0.borrow().get(key).cloned()
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// `window.localStorage` (absent outside a browser, or when the page may not use it).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserStorage;

impl BrowserStorage {
    /// Whether the page may use local storage.
    pub fn available() -> bool {
        Self::storage().is_some()
    }

    fn storage() -> Option<web_sys::Storage> {
        #[cfg(target_arch = "wasm32")]
        {
            web_sys::window()?.local_storage().ok().flatten()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            None
        }
    }
}

impl KeyValue for BrowserStorage {
    fn get(&self, key: &str) -> Option<String> {
        Self::storage()?.get_item(key).ok().flatten()
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        let storage = Self::storage().ok_or("this page may not use local storage")?;
        storage
            .set_item(key, value)
            .map_err(|_| format!("could not save {key} (storage full or blocked)"))
    }
}
