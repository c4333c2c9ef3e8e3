//! The folders of a config repo as the walk reads them. On Unix a [`Folder`] is an open
//! directory: its entries come from `getdents` and its children are opened relative to it
//! (`openat`), so each lookup resolves one path component and no folder costs an `fstat`.
//! Elsewhere it is a path read with `std::fs`.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::Path;

/// What a folder entry is, from the entry itself where the filesystem records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    /// Sockets, pipes, devices: never read.
    Other,
}

#[cfg(unix)]
pub(crate) use by_descriptor::Folder;
#[cfg(not(unix))]
pub(crate) use by_path::Folder;

#[cfg(unix)]
mod by_descriptor {
    use std::os::unix::ffi::OsStrExt;

    use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, openat, statat};

    use super::{File, Kind, OsStr, OsString, Path, io};

    const DIRECTORY: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC);

    /// An open folder.
    pub(crate) struct Folder {
        dir: Dir,
    }

    impl Folder {
        /// Opens the folder at `path`.
        pub(crate) fn open(path: &Path) -> io::Result<Folder> {
            let fd = openat(rustix::fs::CWD, path, DIRECTORY, Mode::empty())?;
            Ok(Folder { dir: Dir::new(fd)? })
        }

        /// Opens the sub-folder `name` (a real folder, not a symlink).
        pub(crate) fn folder(&self, name: &OsStr) -> io::Result<Folder> {
            let fd = openat(
                self.dir.fd()?,
                name,
                DIRECTORY | OFlags::NOFOLLOW,
                Mode::empty(),
            )?;
            Ok(Folder { dir: Dir::new(fd)? })
        }

        /// Opens the regular file `name` for reading.
        pub(crate) fn file(&self, name: &OsStr) -> io::Result<File> {
            // Non-blocking: a pipe put in the file's place never blocks the open (the reader
            // then refuses anything but a regular file).
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK;
            Ok(File::from(openat(
                self.dir.fd()?,
                name,
                flags,
                Mode::empty(),
            )?))
        }

        /// The entries (without `.` and `..`), in the order the filesystem lists them.
        pub(crate) fn entries(&mut self) -> io::Result<Vec<(OsString, Kind)>> {
            let mut out = Vec::new();
            while let Some(entry) = self.dir.read() {
                let entry = entry?;
                let name = OsStr::from_bytes(entry.file_name().to_bytes());
                if name == "." || name == ".." {
                    continue;
                }
                let kind = match entry.file_type() {
                    // Filesystems that do not record types in entries: ask the inode.
                    FileType::Unknown => {
                        let stat = statat(self.dir.fd()?, name, AtFlags::SYMLINK_NOFOLLOW)?;
                        kind(FileType::from_raw_mode(stat.st_mode))
                    }
                    t => kind(t),
                };
                out.push((name.to_os_string(), kind));
            }
            Ok(out)
        }
    }

    fn kind(t: FileType) -> Kind {
        match t {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }
}

#[cfg(any(not(unix), test))]
mod by_path {
    use std::path::PathBuf;

    use super::{File, Kind, OsStr, OsString, Path, io};

    /// A folder, by path.
    pub(crate) struct Folder {
        path: PathBuf,
    }

    impl Folder {
        /// The folder at `path` (checked when it is read).
        pub(crate) fn open(path: &Path) -> io::Result<Folder> {
            Ok(Folder {
                path: path.to_path_buf(),
            })
        }

        /// The sub-folder `name`.
        pub(crate) fn folder(&self, name: &OsStr) -> io::Result<Folder> {
            Folder::open(&self.path.join(name))
        }

        /// Opens the file `name` for reading.
        pub(crate) fn file(&self, name: &OsStr) -> io::Result<File> {
            File::open(self.path.join(name))
        }

        /// The entries, in the order the filesystem lists them.
        pub(crate) fn entries(&mut self) -> io::Result<Vec<(OsString, Kind)>> {
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&self.path)? {
                let entry = entry?;
                let t = entry.file_type()?;
                let kind = if t.is_symlink() {
                    Kind::Symlink
                } else if t.is_dir() {
                    Kind::Dir
                } else if t.is_file() {
                    Kind::File
                } else {
                    Kind::Other
                };
                out.push((entry.file_name(), kind));
            }
            Ok(out)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {

    use std::io::Read;
    use std::path::Path;

    use super::{Kind, by_descriptor, by_path};

    fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
        v.sort();
        v
    }

    /// Both ways of reading a folder see the same entries, kinds and file contents.
    #[test]
    fn descriptors_and_paths_agree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/values.yaml"), "x: 1\n").unwrap();
        std::fs::write(root.join("a/b/values.yaml"), "y: 2\n").unwrap();
        std::os::unix::fs::symlink("b", root.join("a/link")).unwrap();
        let mut by_fd = by_descriptor::Folder::open(&root.join("a")).unwrap();
        let mut by_name = by_path::Folder::open(&root.join("a")).unwrap();
        let entries = sorted(by_fd.entries().unwrap());
        assert_eq!(entries, sorted(by_name.entries().unwrap()));
        let kinds: Vec<(&str, Kind)> = entries
            .iter()
            .map(|(n, k)| (n.to_str().unwrap(), *k))
            .collect();
        assert_eq!(
            kinds,
            [
                ("b", Kind::Dir),
                ("link", Kind::Symlink),
                ("values.yaml", Kind::File)
            ]
        );
        let read = |mut f: std::fs::File| {
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            s
        };
        let name = std::ffi::OsStr::new("values.yaml");
        assert_eq!(read(by_fd.file(name).unwrap()), "x: 1\n");
        assert_eq!(read(by_name.file(name).unwrap()), "x: 1\n");
        let b = std::ffi::OsStr::new("b");
        let (mut sub_fd, mut sub_name) = (by_fd.folder(b).unwrap(), by_name.folder(b).unwrap());
        assert_eq!(
            sub_fd.entries().unwrap(),
            [(name.to_os_string(), Kind::File)]
        );
        assert_eq!(
            sub_name.entries().unwrap(),
            [(name.to_os_string(), Kind::File)]
        );
        assert_eq!(read(sub_fd.file(name).unwrap()), "y: 2\n");
        assert_eq!(read(sub_name.file(name).unwrap()), "y: 2\n");
        // A symlink is never followed as a folder or a file through a descriptor: the walk
        // takes symlinks through its checked path.
        assert!(by_fd.folder(std::ffi::OsStr::new("link")).is_err());
        assert!(by_fd.file(std::ffi::OsStr::new("link")).is_err());
        assert!(by_descriptor::Folder::open(Path::new("/nonexistent/folder")).is_err());
    }
}
