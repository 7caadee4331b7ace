// power_cut — makes a data directory look as a power cut would have left it,
// from the journal tests/crash/sync_journal.cpp wrote while the server ran
// (and that server has since been killed with kill -9).
//
// `baseline` lists "<dev> <ino> <size>" for each file that existed when the
// server started (find -printf '%D %i %s\n'): those count as durable at that
// size. Then, for every regular file under `root`:
//   - created or renamed into place while the server ran, and no fsync of
//     its directory begun since: it is deleted (its name never reached the
//     disk; a file renamed from an old name that had reached the disk would
//     be there under that name after a real power cut: the model errs
//     towards loss);
//   - otherwise it is cut back to the size its last fsync covered (0 for a
//     new file never synced; the baseline size for an old file not synced
//     since);
//   - a file neither in the baseline nor seen being created is deleted too,
//     and reported (the journal missed it).
// Then every file unlinked (or replaced by a rename) while the server ran,
// whose directory had no fsync begun since, and whose name had reached the
// disk before (it was in the baseline, or its directory was synced after it
// was named), comes back from its grave (in `journal`.graveyard), cut as
// above: the unlink never reached the disk. (Of several such files at one
// path, the one named there last before the unlink.) An unlink the library
// could not keep a grave for is reported and counts as durable. New and
// removed directories count as durable (see sync_journal.cpp). A torn last
// journal line (the kill struck mid-write) is ignored. Prints one
// line per file changed and a summary; returns 0, or 1 if the journal or
// the baseline cannot be read or holds a malformed line.
// Thread-safety: none needed (a one-shot tool).
#pragma once

#include <string>

namespace cairn::crash {

int power_cut(const std::string& journal, const std::string& root, const std::string& baseline);

}  // namespace cairn::crash
