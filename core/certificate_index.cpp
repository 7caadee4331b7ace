#include "core/certificate_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

#include "eventstore/error.h"

namespace cairn {
namespace {

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorKind::Internal, "corrupt_record", "certificate index: " + what);
}

// Lowercase hex digit values; 0xff for anything else.
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - 'a' + 10);
  return t;
}();

// Packs lowercase hex digits two per byte; false for anything else.
bool pack_serial(std::string_view hex, std::array<uint8_t, CertificateIndex::kMaxSerialDigits / 2>& out) {
  if (hex.empty() || hex.size() > CertificateIndex::kMaxSerialDigits) return false;
  out.fill(0);
  uint8_t bad = 0;
  for (size_t i = 0; i < hex.size(); ++i) {
    uint8_t v = kHexValue[static_cast<uint8_t>(hex[i])];
    bad |= v;  // 0xff marks a non-digit; digits are < 0x10
    out[i / 2] = static_cast<uint8_t>(out[i / 2] | (i % 2 ? v : v << 4));
  }
  return (bad & 0xf0) == 0;
}

// A lookup key: `serial_hex` packed into an entry's serial fields; false if
// it is not lowercase hex of 1-40 digits.
bool key_for(std::string_view serial_hex, CertificateIndex::Entry& key) {
  if (!pack_serial(serial_hex, key.serial)) return false;
  key.serial_digits = static_cast<uint8_t>(serial_hex.size());
  return true;
}

size_t serial_hash(const std::array<uint8_t, CertificateIndex::kMaxSerialDigits / 2>& packed, uint8_t digits) {
  // FNV-1a over the packed digits: serials are random, lookups may not be.
  uint64_t h = 1469598103934665603ull ^ digits;
  for (size_t i = 0; i < (digits + 1u) / 2; ++i) h = (h ^ packed[i]) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

}  // namespace

// ---- fixed little-endian encoding -----------------------------------------
namespace index_codec {
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // One append per integer: byte by byte, the snapshot of a CA of a million
  // certificates took 300-350 ms to encode (now about 140), inside its turn.
  template <class T>
  void integer(T v) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    char raw[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) raw[i] = static_cast<char>((u >> (8 * i)) & 0xff);
    out_.append(raw, sizeof(T));
  }
  void bytes(std::string_view s) {
    integer<uint64_t>(s.size());
    out_.append(s);
  }
  // Fixed-size bytes, as they are (packed serials, digests).
  void raw(const void* data, size_t n) { out_.append(static_cast<const char*>(data), n); }

 private:
  std::string& out_;
};

}  // namespace index_codec

namespace {
using index_codec::Writer;

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  T integer() {
    need(sizeof(T));
    std::make_unsigned_t<T> u = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&u, in_.data() + at_, sizeof(T));
    } else {
      for (size_t i = 0; i < sizeof(T); ++i)
        u = static_cast<std::make_unsigned_t<T>>(
            u | (static_cast<std::make_unsigned_t<T>>(static_cast<uint8_t>(in_[at_ + i])) << (8 * i)));
    }
    at_ += sizeof(T);
    return static_cast<T>(u);
  }
  void copy(void* out, size_t n) {
    need(n);
    std::memcpy(out, in_.data() + at_, n);
    at_ += n;
  }
  std::string_view bytes() {
    auto n = integer<uint64_t>();
    need(n);
    std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  uint64_t count(size_t min_bytes_each) {
    auto n = integer<uint64_t>();
    if (min_bytes_each && n > (in_.size() - at_) / min_bytes_each) corrupt("count beyond the data");
    return n;
  }
  bool done() const { return at_ == in_.size(); }
  size_t position() const { return at_; }

 private:
  void need(uint64_t n) const {
    if (n > in_.size() - at_) corrupt("truncated");
  }
  std::string_view in_;
  size_t at_ = 0;
};

constexpr uint32_t kFormat = 1;
constexpr size_t kEncodedEntryBytes = 8 * 6 + 4 * 6 + 3 + CertificateIndex::kMaxSerialDigits / 2;

}  // namespace

static_assert(std::is_trivially_copyable_v<CertificateIndex::Entry>,
              "entries live in raw chunks and are copied as bytes");

// ---- StringTable -------------------------------------------------------------

uint32_t CertificateIndex::StringTable::intern(std::string_view s) {
  if (last_ && values_[*last_] == s) return *last_;
  if (auto it = ids_.find(s); it != ids_.end()) {
    last_ = it->second;
    return it->second;
  }
  values_.emplace_back(s);
  auto id = static_cast<uint32_t>(values_.size() - 1);
  ids_.emplace(values_.back(), id);
  last_ = id;
  return id;
}

std::optional<uint32_t> CertificateIndex::StringTable::find(std::string_view s) const {
  auto it = ids_.find(s);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// ---- construction --------------------------------------------------------------

CertificateIndex::CertificateIndex() = default;
CertificateIndex::CertificateIndex(CertificateIndex&&) noexcept = default;
CertificateIndex& CertificateIndex::operator=(CertificateIndex&&) noexcept = default;
CertificateIndex::~CertificateIndex() = default;

CertificateIndex::CertificateIndex(const CertificateIndex& other) { copy_from(other); }

CertificateIndex& CertificateIndex::operator=(const CertificateIndex& other) {
  if (this != &other) {
    CertificateIndex copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void CertificateIndex::copy_from(const CertificateIndex& other) {
  // The string tables hold views into their own storage: rebuilt, not copied.
  for (size_t i = 0; i < other.profiles_.size(); ++i) profiles_.intern(other.profiles_.at(static_cast<uint32_t>(i)));
  for (size_t i = 0; i < other.requesters_.size(); ++i) requesters_.intern(other.requesters_.at(static_cast<uint32_t>(i)));
  for (size_t i = 0; i < other.keys_.size(); ++i) keys_.intern(other.keys_.at(static_cast<uint32_t>(i)));
  for (size_t i = 0; i < other.size_; ++i) append() = other.at(static_cast<Position>(i));
  slots_ = other.slots_;
  subject_chunks_ = other.subject_chunks_;
  revocation_order_ = other.revocation_order_;
  revocation_digest_ = other.revocation_digest_;
  child_ca_ = other.child_ca_;
  kept_der_ = other.kept_der_;
  last_expiry_ = other.last_expiry_;
}

CertificateIndex::Entry& CertificateIndex::append() {
  if ((size_ >> kChunkBits) >= chunks_.size()) {
    // The first chunk on small pages: a CA with a few certificates should not
    // hold a 2 MiB page for them (only touched pages are resident).
    const size_t n = kChunkMask + 1;
    Entry* chunk = chunks_.empty() ? static_cast<Entry*>(std::malloc(n * sizeof(Entry)))
                                   : HugePageAllocator<Entry>().allocate(n);
    if (!chunk) throw std::bad_alloc();
    chunks_.emplace_back(chunk);  // entries are trivially copyable: assigned before use
  }
  Entry& e = mutable_at(static_cast<Position>(size_));
  e = Entry{};
  ++size_;
  return e;
}

// ---- lookups -------------------------------------------------------------------

uint32_t CertificateIndex::hash_of(const Entry& key) {
  return static_cast<uint32_t>(serial_hash(key.serial, key.serial_digits));
}

size_t CertificateIndex::slot_of(const Entry& key, uint32_t hash) const {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != kEmptySlot) {
    if ((slots_[i] >> 32) == hash) {
      const Entry& e = at(static_cast<Position>(slots_[i]));
      if (e.serial_digits == key.serial_digits && e.serial == key.serial) return i;
    }
    i = (i + 1) & mask;
  }
  return i;
}

CertificateIndex::Position CertificateIndex::find(std::string_view serial_hex) const {
  if (slots_.empty()) return kNone;
  Entry key;
  if (!key_for(serial_hex, key)) return kNone;
  uint64_t slot = slots_[slot_of(key, hash_of(key))];
  return slot == kEmptySlot ? kNone : static_cast<Position>(slot);
}

void CertificateIndex::prefetch_slot(std::string_view serial_hex) const {
  Entry key;
  if (slots_.empty() || !key_for(serial_hex, key)) return;
  __builtin_prefetch(&slots_[hash_of(key) & (slots_.size() - 1)]);
}

void CertificateIndex::prefetch_entry(std::string_view serial_hex) const {
  Entry key;
  if (slots_.empty() || !key_for(serial_hex, key)) return;
  const uint32_t hash = hash_of(key);
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i] != kEmptySlot; i = (i + 1) & mask)
    if ((slots_[i] >> 32) == hash) {
      __builtin_prefetch(&at(static_cast<Position>(slots_[i])));
      return;
    }
}

void CertificateIndex::insert_slot(Position p, uint32_t hash) {
  if ((size_ + 1) * 2 > slots_.size()) grow_slots();
  slots_[slot_of(at(p), hash)] = static_cast<uint64_t>(hash) << 32 | p;
}

void CertificateIndex::grow_slots() {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> old(std::max<size_t>(64, slots_.size() * 2), kEmptySlot);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  // Serials are unique: each goes to the first free slot from its home.
  for (uint64_t slot : old) {
    if (slot == kEmptySlot) continue;
    size_t i = (slot >> 32) & mask;
    while (slots_[i] != kEmptySlot) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

std::string CertificateIndex::serial(const Entry& e) const {
  std::array<char, kMaxSerialDigits> buffer;
  return std::string(serial(e, buffer));
}

std::string_view CertificateIndex::serial(const Entry& e, std::array<char, kMaxSerialDigits>& out) const {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < e.serial_digits; ++i)
    out[i] = kDigits[i % 2 ? e.serial[i / 2] & 0x0f : e.serial[i / 2] >> 4];
  return std::string_view(out.data(), e.serial_digits);
}

std::string_view CertificateIndex::subject(const Entry& e) const {
  const std::string& chunk = subject_chunks_.at(e.subject_at >> 32);
  return std::string_view(chunk).substr(e.subject_at & 0xffffffffu, e.subject_length);
}

const std::string& CertificateIndex::child_ca(Position p) const {
  static const std::string kNoChild;
  auto it = child_ca_.find(p);
  return it == child_ca_.end() ? kNoChild : it->second;
}

const std::string* CertificateIndex::kept_der(Position p) const {
  auto it = kept_der_.find(p);
  return it == kept_der_.end() ? nullptr : &it->second;
}

int64_t CertificateIndex::last_expiry_of_key(std::string_view key_id) const {
  auto id = keys_.find(key_id);
  return id && *id < last_expiry_.size() ? last_expiry_[*id] : 0;
}

// ---- changes -------------------------------------------------------------------

uint64_t CertificateIndex::add_subject(std::string_view subject) {
  if (subject_chunks_.empty() || subject_chunks_.back().size() + subject.size() > kSubjectChunk) {
    subject_chunks_.emplace_back();
    subject_chunks_.back().reserve(std::max(kSubjectChunk, subject.size()));
  }
  if (subject_chunks_.size() <= subject_pieces_.size()) subject_pieces_[subject_chunks_.size() - 1].reset();
  std::string& chunk = subject_chunks_.back();
  uint64_t at = (static_cast<uint64_t>(subject_chunks_.size() - 1) << 32) | chunk.size();
  chunk.append(subject);
  return at;
}

void CertificateIndex::note_expiry(const Entry& e) {
  if (last_expiry_.size() <= e.issuer_key) last_expiry_.resize(e.issuer_key + 1, 0);
  last_expiry_[e.issuer_key] = std::max(last_expiry_[e.issuer_key], e.not_after_ms);
}

CertificateIndex::Position CertificateIndex::add(const IssuedFields& issued, uint64_t event_version) {
  Entry e;
  if (!key_for(issued.serial, e))
    corrupt("serial '" + std::string(issued.serial.substr(0, 64)) + "' is not canonical hex");
  const uint32_t hash = hash_of(e);
  if (!slots_.empty() && slots_[slot_of(e, hash)] != kEmptySlot)
    corrupt("serial " + std::string(issued.serial) + " issued twice");
  if (size_ >= kNone) corrupt("too many certificates");
  if (issued.subject.size() > UINT32_MAX) corrupt("subject too long");
  e.event_version = event_version;
  e.not_before_ms = issued.not_before_ms;
  e.not_after_ms = issued.not_after_ms;
  e.issued_at_ms = issued.issued_at_ms;
  e.subject_at = add_subject(issued.subject);
  e.subject_length = static_cast<uint32_t>(issued.subject.size());
  e.profile = profiles_.intern(issued.profile);
  e.requester = requesters_.intern(issued.requested_by);
  e.issuer_key = keys_.intern(issued.issuer_key_id);
  auto p = static_cast<Position>(size_);
  if (!issued.replaces.empty()) {
    Position old = find(issued.replaces);
    e.replaces = old;
    if (old != kNone) mutable_at(old).replaced_by = p;
  }
  append() = e;
  insert_slot(p, hash);
  note_expiry(e);
  if (!issued.child_ca.empty()) child_ca_[p] = std::string(issued.child_ca);
  return p;
}

void CertificateIndex::revoke(Position p, int64_t revoked_at_ms, int reason) {
  Entry& e = mutable_at(p);
  bool first = !e.revoked;
  e.revoked = true;
  e.revoked_at_ms = revoked_at_ms;
  e.revocation_reason = static_cast<uint8_t>(reason);
  if (first) note_revocation(p);
}

void CertificateIndex::note_revocation(Position p) {
  const Entry& e = at(p);
  uint64_t h = revocation_digest_.empty() ? 0x9e3779b97f4a7c15ull : revocation_digest_.back();
  for (uint64_t v : {uint64_t{p}, static_cast<uint64_t>(e.revoked_at_ms), uint64_t{e.revocation_reason}}) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  revocation_order_.push_back(p);
  revocation_digest_.push_back(h);
}

void CertificateIndex::keep_der(Position p, std::string der) { kept_der_[p] = std::move(der); }

// ---- encoding ------------------------------------------------------------------

std::string CertificateIndex::encode() const {
  std::string out;
  encode(out);
  return out;
}

namespace {

constexpr uint32_t kPiecedFormat = 2;
constexpr size_t kPieceRefBytes = 8 + 4 + 8 + 32;
// What the pieces may add up to: far beyond any real index (a million
// certificates take about 120 MB), so that a damaged record cannot ask for
// an absurd reservation.
constexpr uint64_t kMaxPiecedBytes = uint64_t{64} << 30;

void write_piece_ref(Writer& w, const SnapshotPieceRef& ref) {
  w.integer(ref.written_by);
  w.integer(ref.number);
  w.integer(ref.length);
  w.raw(ref.sha256.data(), ref.sha256.size());
}

SnapshotPieceRef read_piece_ref(Reader& r) {
  SnapshotPieceRef ref;
  ref.written_by = r.integer<uint64_t>();
  ref.number = r.integer<uint32_t>();
  ref.length = r.integer<uint64_t>();
  r.copy(ref.sha256.data(), ref.sha256.size());
  return ref;
}

}  // namespace

// Both encodings: format, the string tables, the subject text, the
// entries, then the tail (revocation order, child CAs, kept DER). The
// pieced one names pieces where encode() writes the text and the entries.
void CertificateIndex::encode_tables(Writer& w) const {
  auto table = [&](const StringTable& t) {
    w.integer<uint64_t>(t.size());
    for (size_t i = 0; i < t.size(); ++i) w.bytes(t.at(static_cast<uint32_t>(i)));
  };
  table(profiles_);
  table(requesters_);
  table(keys_);
}

void CertificateIndex::encode_entries(Writer& w, size_t from, size_t to) const {
  for (size_t i = from; i < to; ++i) {
    const Entry& e = at(static_cast<Position>(i));
    w.integer(e.event_version);
    w.integer(e.not_before_ms);
    w.integer(e.not_after_ms);
    w.integer(e.issued_at_ms);
    w.integer(e.revoked_at_ms);
    w.integer(e.subject_at);
    w.integer(e.subject_length);
    w.integer(e.replaces);
    w.integer(e.replaced_by);
    w.integer(e.profile);
    w.integer(e.requester);
    w.integer(e.issuer_key);
    w.integer(e.serial_digits);
    w.integer(e.revocation_reason);
    w.integer<uint8_t>(e.revoked ? 1 : 0);
    w.raw(e.serial.data(), e.serial.size());
  }
}

void CertificateIndex::encode_tail(Writer& w) const {
  w.integer<uint64_t>(revocation_order_.size());
  for (Position p : revocation_order_) w.integer(p);
  w.integer<uint64_t>(child_ca_.size());
  for (const auto& [p, child] : child_ca_) {
    w.integer(p);
    w.bytes(child);
  }
  w.integer<uint64_t>(kept_der_.size());
  for (const auto& [p, der] : kept_der_) {
    w.integer(p);
    w.bytes(der);
  }
}

void CertificateIndex::encode(std::string& out) const {
  size_t subjects = 0;
  for (const auto& c : subject_chunks_) subjects += c.size() + 8;
  out.reserve(out.size() + 64 + size_ * kEncodedEntryBytes + subjects + revocation_order_.size() * 4);
  Writer w(out);
  w.integer(kFormat);
  encode_tables(w);
  w.integer<uint64_t>(subject_chunks_.size());
  for (const auto& c : subject_chunks_) w.bytes(c);
  w.integer<uint64_t>(size_);
  encode_entries(w, 0, size_);
  encode_tail(w);
}

void CertificateIndex::encode_pieced(std::string& out, SnapshotPieceSink& pieces) {
  Writer w(out);
  w.integer(kPiecedFormat);
  encode_tables(w);
  subject_pieces_.resize(subject_chunks_.size());
  w.integer<uint64_t>(subject_chunks_.size());
  for (size_t i = 0; i < subject_chunks_.size(); ++i) {
    auto& piece = subject_pieces_[i];
    if (piece)
      pieces.keep(*piece);
    else
      piece = pieces.add(subject_chunks_[i]);
    write_piece_ref(w, *piece);
  }
  const size_t entry_chunks = (size_ + kChunkMask) >> kChunkBits;
  entry_pieces_.resize(entry_chunks);
  w.integer<uint64_t>(size_);
  w.integer<uint64_t>(entry_chunks);
  for (size_t c = 0; c < entry_chunks; ++c) {
    auto& piece = entry_pieces_[c];
    if (piece) {
      pieces.keep(*piece);
    } else {
      const size_t from = c << kChunkBits;
      const size_t to = std::min(size_, from + kChunkMask + 1);
      std::string bytes;
      bytes.reserve((to - from) * kEncodedEntryBytes);
      Writer cw(bytes);
      encode_entries(cw, from, to);
      piece = pieces.add(std::move(bytes));
    }
    write_piece_ref(w, *piece);
  }
  encode_tail(w);
}

void CertificateIndex::forget_pieces() {
  entry_pieces_.clear();
  subject_pieces_.clear();
}

CertificateIndex CertificateIndex::decode_pieced(std::string_view bytes, const SnapshotPieceSource& pieces) {
  Reader r(bytes);
  const auto format = r.integer<uint32_t>();
  if (format == kFormat) return decode(bytes);
  if (format != kPiecedFormat) corrupt("unknown format");
  // encode()'s bytes, rebuilt from the pieces: one decoder checks both forms.
  std::string whole;
  Writer w(whole);
  w.integer(kFormat);
  const size_t tables_at = r.position();
  for (int t = 0; t < 3; ++t) {
    uint64_t n = r.count(8);
    for (uint64_t i = 0; i < n; ++i) r.bytes();
  }
  whole.append(bytes.substr(tables_at, r.position() - tables_at));
  // A piece named twice would be read (and held) twice: refused, so that
  // what is read is what is stored.
  std::set<std::pair<uint64_t, uint32_t>> named;
  auto next_ref = [&] {
    SnapshotPieceRef ref = read_piece_ref(r);
    if (!named.emplace(ref.written_by, ref.number).second) corrupt("a piece named twice");
    return ref;
  };
  const uint64_t subject_count = r.count(kPieceRefBytes);
  std::vector<SnapshotPieceRef> subject_refs;
  subject_refs.reserve(subject_count);
  uint64_t total = whole.size() + 16 + (bytes.size() - r.position());
  for (uint64_t i = 0; i < subject_count; ++i) {
    subject_refs.push_back(next_ref());
    if (subject_refs.back().length > UINT32_MAX) corrupt("subject piece too long");  // offsets are 32-bit
    total += 8 + subject_refs.back().length;
  }
  const uint64_t n = r.integer<uint64_t>();
  if (n >= kNone) corrupt("too many certificates");
  const uint64_t entry_chunks = r.count(kPieceRefBytes);
  if (entry_chunks != ((n + kChunkMask) >> kChunkBits)) corrupt("entry pieces do not match the count");
  std::vector<SnapshotPieceRef> entry_refs;
  entry_refs.reserve(entry_chunks);
  for (uint64_t c = 0; c < entry_chunks; ++c) {
    entry_refs.push_back(next_ref());
    const uint64_t entries = std::min<uint64_t>(n - (c << kChunkBits), kChunkMask + 1);
    if (entry_refs.back().length != entries * kEncodedEntryBytes) corrupt("entry piece of the wrong length");
  }
  total += n * kEncodedEntryBytes;
  if (total > kMaxPiecedBytes) corrupt("pieces beyond any index");
  whole.reserve(total);
  w.integer<uint64_t>(subject_count);
  for (const auto& ref : subject_refs) pieces.read(ref, [&](std::string_view text) { w.bytes(text); });
  w.integer<uint64_t>(n);
  for (const auto& ref : entry_refs) pieces.read(ref, [&](std::string_view chunk) { whole.append(chunk); });
  whole.append(bytes.substr(r.position()));
  CertificateIndex x = decode(whole);
  // Each chunk is what its piece holds (length and digest checked, and the
  // encoding round-trips): the next snapshot names these pieces again
  // rather than writing the whole index in the CA's turn. (Should a piece be
  // erased meanwhile, the store does not write that snapshot's record and
  // the one after writes every chunk.)
  x.subject_pieces_.assign(subject_refs.begin(), subject_refs.end());
  x.entry_pieces_.assign(entry_refs.begin(), entry_refs.end());
  return x;
}

CertificateIndex CertificateIndex::decode(std::string_view bytes) {
  CertificateIndex x;
  Reader r(bytes);
  if (r.integer<uint32_t>() != kFormat) corrupt("unknown format");
  auto table = [&](StringTable& t) {
    uint64_t n = r.count(8);
    for (uint64_t i = 0; i < n; ++i)
      if (t.intern(r.bytes()) != i) corrupt("repeated string in a table");
  };
  table(x.profiles_);
  table(x.requesters_);
  table(x.keys_);
  uint64_t chunks = r.count(8);
  for (uint64_t i = 0; i < chunks; ++i) {
    std::string_view c = r.bytes();
    x.subject_chunks_.emplace_back();
    x.subject_chunks_.back().reserve(std::max(kSubjectChunk, c.size()));
    x.subject_chunks_.back().append(c);
  }
  uint64_t n = r.count(kEncodedEntryBytes);
  if (n >= kNone) corrupt("too many certificates");
  x.slots_.assign(std::max<size_t>(64, std::bit_ceil(n * 2 + 2)), kEmptySlot);
  std::vector<uint32_t> hashes;
  hashes.reserve(n);
  uint64_t marked = 0;  // entries marked revoked
  for (uint64_t i = 0; i < n; ++i) {
    Entry& e = x.append();
    e.event_version = r.integer<uint64_t>();
    e.not_before_ms = r.integer<int64_t>();
    e.not_after_ms = r.integer<int64_t>();
    e.issued_at_ms = r.integer<int64_t>();
    e.revoked_at_ms = r.integer<int64_t>();
    e.subject_at = r.integer<uint64_t>();
    e.subject_length = r.integer<uint32_t>();
    e.replaces = r.integer<uint32_t>();
    e.replaced_by = r.integer<uint32_t>();
    e.profile = r.integer<uint32_t>();
    e.requester = r.integer<uint32_t>();
    e.issuer_key = r.integer<uint32_t>();
    e.serial_digits = r.integer<uint8_t>();
    e.revocation_reason = r.integer<uint8_t>();
    e.revoked = r.integer<uint8_t>() != 0;
    r.copy(e.serial.data(), e.serial.size());
    if (e.profile >= x.profiles_.size() || e.requester >= x.requesters_.size() || e.issuer_key >= x.keys_.size())
      corrupt("string id out of range");
    if ((e.subject_at >> 32) >= x.subject_chunks_.size() ||
        (e.subject_at & 0xffffffffu) + e.subject_length > x.subject_chunks_[e.subject_at >> 32].size())
      corrupt("subject out of range");
    if (e.serial_digits == 0 || e.serial_digits > kMaxSerialDigits) corrupt("bad serial");
    if ((e.replaces != kNone && e.replaces >= n) || (e.replaced_by != kNone && e.replaced_by >= n))
      corrupt("link out of range");
    hashes.push_back(hash_of(e));
    x.note_expiry(e);
    marked += e.revoked ? 1 : 0;
  }
  // Into the table with the slots a few entries ahead already on their way
  // from memory (each insert is otherwise a cache miss).
  constexpr size_t kAhead = 16;
  const size_t mask = x.slots_.size() - 1;
  for (uint64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(&x.slots_[hashes[i + kAhead] & mask]);
    size_t slot = x.slot_of(x.at(static_cast<Position>(i)), hashes[i]);
    if (x.slots_[slot] != kEmptySlot) corrupt("serial listed twice");
    x.slots_[slot] = static_cast<uint64_t>(hashes[i]) << 32 | i;
  }
  uint64_t revoked = r.count(4);
  if (revoked != marked) corrupt("revocation order does not match the revoked certificates");
  x.revocation_order_.reserve(revoked);
  x.revocation_digest_.reserve(revoked);
  for (uint64_t i = 0; i < revoked; ++i) {
    auto p = r.integer<uint32_t>();
    if (p >= n || !x.at(p).revoked) corrupt("revocation of an unknown or unrevoked certificate");
    x.note_revocation(p);
  }
  uint64_t children = r.count(12);
  for (uint64_t i = 0; i < children; ++i) {
    auto p = r.integer<uint32_t>();
    if (p >= n) corrupt("child CA of an unknown certificate");
    x.child_ca_[p] = std::string(r.bytes());
  }
  uint64_t kept = r.count(12);
  for (uint64_t i = 0; i < kept; ++i) {
    auto p = r.integer<uint32_t>();
    if (p >= n) corrupt("DER of an unknown certificate");
    x.kept_der_[p] = std::string(r.bytes());
  }
  if (!r.done()) corrupt("trailing bytes");
  return x;
}

}  // namespace cairn
