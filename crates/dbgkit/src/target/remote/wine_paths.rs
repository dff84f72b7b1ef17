//! Windows file names as files on this machine: a Windows program under Wine
//! names its DLLs `Z:\usr\lib\...\ntdll.dll` (Wine's `Z:` is the Unix
//! root) or `C:\windows\system32\kernel32.dll` (a drive of the Wine
//! prefix, reached through `$WINEPREFIX/dosdevices/c:`).

use std::path::{Path, PathBuf};

/// The prefix whose drives a `C:` name refers to: `$WINEPREFIX`, else Wine's
/// default `~/.wine`.
fn wine_prefix() -> Option<PathBuf> {
    std::env::var_os("WINEPREFIX")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".wine")))
}

/// The file on this machine a Windows name stands for; the name unchanged
/// (a path that does not exist here) when it cannot be mapped. Windows
/// names are case-insensitive (`KERNEL32.dll` is `kernel32.dll`): a path
/// that does not exist as written is looked up one component at a time.
pub fn host_path(windows_name: &str) -> PathBuf {
    if cfg!(windows) {
        // A debugger on Windows (or itself under Wine) opens Windows names as they are.
        return PathBuf::from(windows_name);
    }
    let path = host_path_in(windows_name, wine_prefix().as_deref());
    if path.exists() || !path.is_absolute() {
        return path;
    }
    ignoring_case(&path).unwrap_or(path)
}

/// The existing path that matches `path` but for the case of its names.
fn ignoring_case(path: &Path) -> Option<PathBuf> {
    let mut found = PathBuf::from("/");
    for component in path.components().skip(1) {
        let name = component.as_os_str();
        let exact = found.join(name);
        if exact.exists() {
            found = exact;
            continue;
        }
        let wanted = name.to_string_lossy().to_lowercase();
        let entry = std::fs::read_dir(&found)
            .ok()?
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)?;
        found.push(entry.file_name());
    }
    Some(found)
}

fn host_path_in(windows_name: &str, prefix: Option<&Path>) -> PathBuf {
    let name = windows_name.strip_prefix(r"\\?\").unwrap_or(windows_name);
    let bytes = name.as_bytes();
    let is_drive = bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'\\';
    if !is_drive {
        return PathBuf::from(windows_name);
    }
    let rest = name[3..].replace('\\', "/");
    let drive = bytes[0].to_ascii_lowercase();
    if drive == b'z' {
        return PathBuf::from(format!("/{rest}"));
    }
    match prefix {
        Some(prefix) => prefix.join("dosdevices").join(format!("{}:", drive as char)).join(rest),
        None => PathBuf::from(windows_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_wine_drives() {
        let prefix = Path::new("/var/tmp/prefix");
        assert_eq!(
            host_path_in(r"Z:\usr\lib\wine\x86_64-windows\ntdll.dll", Some(prefix)),
            Path::new("/usr/lib/wine/x86_64-windows/ntdll.dll")
        );
        assert_eq!(
            host_path_in(r"C:\windows\system32\KERNEL32.dll", Some(prefix)),
            Path::new("/var/tmp/prefix/dosdevices/c:/windows/system32/KERNEL32.dll")
        );
        assert_eq!(host_path_in(r"\\?\Z:\tmp\a.exe", Some(prefix)), Path::new("/tmp/a.exe"));
        assert_eq!(host_path_in(r"C:\a.dll", None), Path::new(r"C:\a.dll"));
        assert_eq!(host_path_in("ntdll.dll", Some(prefix)), Path::new("ntdll.dll"));
    }

    #[test]
    fn finds_a_file_named_in_another_case() {
        let dir = std::env::temp_dir().join(format!("dbgkit-wine-paths-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("System32")).unwrap();
        std::fs::write(dir.join("System32/kernel32.dll"), b"MZ").unwrap();
        let asked = dir.join("system32/KERNEL32.DLL");
        assert_eq!(ignoring_case(&asked), Some(dir.join("System32/kernel32.dll")));
        assert_eq!(ignoring_case(&dir.join("system32/none.dll")), None);
        let windows_name = format!("Z:{}", asked.display()).replace('/', "\\");
        assert_eq!(host_path(&windows_name), dir.join("System32/kernel32.dll"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
