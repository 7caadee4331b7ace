// CertificateIndex — what a CA keeps in memory about the certificates it
// issued, compactly: about 100 bytes each plus the subject text.
//
// Each entry holds the serial (packed hex digits), validity, issue and
// revocation times, links to the certificate it renews and the one that
// renewed it (positions), and interned profile, requester and issuing-key
// names. A certificate's DER is not kept: it stays in the event log, and the
// entry names the version of its CertificateIssued event. Only the few
// certificates the CA itself needs at hand (child CA and OCSP responder
// certificates) keep their DER here (keep_der).
//
// Positions are issuance order (0, 1, ...), never reused. encode() is
// deterministic: equal histories give equal bytes, which is how auditors
// compare a snapshot with a replay. encode_pieced() is the snapshot's form
// of the same content: the entries and the subject text in chunks stored as
// snapshot pieces, where a chunk that did not change since the previous
// snapshot is named, not written again (a large CA's snapshot then costs its
// turn the chunks that changed, not the whole index).
// Thread-safety: none (part of CertAuth's state; AggregateStore serialises).
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/huge_page_allocator.h"
#include "eventstore/snapshot_pieces.h"

namespace cairn {

namespace index_codec {
class Writer;
}

// What the index takes from a CertificateIssued event (views into it).
struct IssuedFields {
  std::string_view serial;
  std::string_view profile;
  std::string_view subject;
  std::string_view replaces;
  std::string_view child_ca;
  std::string_view issuer_key_id;
  std::string_view requested_by;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  int64_t issued_at_ms = 0;
};

class CertificateIndex {
 public:
  using Position = uint32_t;
  static constexpr Position kNone = UINT32_MAX;
  static constexpr size_t kMaxSerialDigits = 40;

  struct Entry {
    uint64_t event_version = 0;  // of the CertificateIssued event (it has the DER)
    int64_t not_before_ms = 0;
    int64_t not_after_ms = 0;
    int64_t issued_at_ms = 0;
    int64_t revoked_at_ms = 0;
    uint64_t subject_at = 0;  // (chunk << 32) | offset in the subject text
    uint32_t subject_length = 0;
    Position replaces = kNone;
    Position replaced_by = kNone;
    uint32_t profile = 0;      // interned
    uint32_t requester = 0;    // interned
    uint32_t issuer_key = 0;   // interned
    uint8_t serial_digits = 0;
    uint8_t revocation_reason = 0;
    bool revoked = false;
    std::array<uint8_t, kMaxSerialDigits / 2> serial{};  // two hex digits per byte
  };

  CertificateIndex();
  CertificateIndex(const CertificateIndex& other);
  CertificateIndex& operator=(const CertificateIndex& other);
  CertificateIndex(CertificateIndex&&) noexcept;
  CertificateIndex& operator=(CertificateIndex&&) noexcept;
  ~CertificateIndex();

  // Records an issued certificate. A serial that is not lowercase hex of at
  // most 40 digits, or already present, throws Error corrupt_record (cairn
  // never issues such; only a damaged history holds one).
  Position add(const IssuedFields& e, uint64_t event_version);
  // Marks `p` revoked (the first revocation also joins revocation_order()).
  void revoke(Position p, int64_t revoked_at_ms, int reason);
  void keep_der(Position p, std::string der);

  size_t size() const { return size_; }
  size_t revoked_count() const { return revocation_order_.size(); }
  const Entry& at(Position p) const { return chunks_[p >> kChunkBits][p & kChunkMask]; }
  // kNone when `serial_hex` (canonical lowercase hex) was not issued.
  Position find(std::string_view serial_hex) const;
  // Positions of revoked certificates in the order they were revoked.
  const std::vector<Position>& revocation_order() const { return revocation_order_; }
  // Hints for a replay that knows which serials come next: start loading
  // the table slot of `serial_hex` (stage 1) and, once that is in, the entry
  // it names (stage 2). No effect on the contents.
  void prefetch_slot(std::string_view serial_hex) const;
  void prefetch_entry(std::string_view serial_hex) const;
  // A digest of the first `count` revocations (position, time, reason), so
  // a cache built from them can tell whether they are still the same after a
  // failed command was rolled back. 0 for count 0.
  uint64_t revocation_digest(size_t count) const { return count ? revocation_digest_.at(count - 1) : 0; }
  // The newest position issued, or kNone when empty.
  Position last() const { return size_ ? static_cast<Position>(size_ - 1) : kNone; }

  std::string serial(const Entry& e) const;
  // The serial's hex digits written into `out` (at most 40).
  std::string_view serial(const Entry& e, std::array<char, kMaxSerialDigits>& out) const;
  std::string_view subject(const Entry& e) const;
  const std::string& profile(const Entry& e) const { return profiles_.at(e.profile); }
  const std::string& requester(const Entry& e) const { return requesters_.at(e.requester); }
  const std::string& issuer_key_id(const Entry& e) const { return keys_.at(e.issuer_key); }
  // The interned id of `name` among profiles / requesters, if any entry uses it.
  std::optional<uint32_t> profile_id(std::string_view name) const { return profiles_.find(name); }
  std::optional<uint32_t> requester_id(std::string_view name) const { return requesters_.find(name); }
  // The child CA a certificate certifies ("" for none).
  const std::string& child_ca(Position p) const;
  // The DER kept for `p` (see keep_der), or null.
  const std::string* kept_der(Position p) const;
  const std::map<Position, std::string>& kept_ders() const { return kept_der_; }
  // The latest notAfter of the certificates `key_id` issued (0: none).
  int64_t last_expiry_of_key(std::string_view key_id) const;

  std::string encode() const;
  void encode(std::string& out) const;  // appends
  // Throws Error corrupt_record on anything but encode()'s output.
  static CertificateIndex decode(std::string_view bytes);

  // Appends the index with its chunks of entries (32,768 each) and of
  // subject text (1 MiB each) as pieces: a chunk changed since the last
  // call is given to pieces.add(), the others to pieces.keep() with the
  // piece written then. Remembers the pieces it added: if they are not
  // stored after all, call forget_pieces() before the next call.
  void encode_pieced(std::string& out, SnapshotPieceSink& pieces);
  // The next encode_pieced() adds every chunk again.
  void forget_pieces();
  // Reads encode_pieced()'s output, or encode()'s; the result equals
  // decode() of encode()'s bytes of the same index. It remembers the pieces
  // it read (encode_pieced() of it adds no chunk until one changes); read
  // from encode()'s bytes, it remembers none. Throws Error corrupt_record,
  // or snapshot_incomplete when a piece is missing or not the one named.
  static CertificateIndex decode_pieced(std::string_view bytes, const SnapshotPieceSource& pieces);

 private:
  static constexpr unsigned kChunkBits = 15;  // 3 MiB of entries
  static constexpr Position kChunkMask = (1u << kChunkBits) - 1;
  static constexpr size_t kSubjectChunk = 1 << 20;

  // Strings interned to small ids; ids are assigned in order of first use.
  class StringTable {
   public:
    uint32_t intern(std::string_view s);
    std::optional<uint32_t> find(std::string_view s) const;
    const std::string& at(uint32_t id) const { return values_.at(id); }
    size_t size() const { return values_.size(); }

   private:
    std::deque<std::string> values_;  // stable addresses: ids_ keys view them
    std::unordered_map<std::string_view, uint32_t> ids_;
    // The last string interned: consecutive certificates mostly share their
    // profile, requester and issuing key, so most interns end here.
    std::optional<uint32_t> last_;
  };

  // Every change to an entry goes through here: it marks the entry's chunk
  // changed since the last snapshot.
  Entry& mutable_at(Position p) {
    if ((p >> kChunkBits) < entry_pieces_.size()) entry_pieces_[p >> kChunkBits].reset();
    return chunks_[p >> kChunkBits][p & kChunkMask];
  }
  Entry& append();
  uint64_t add_subject(std::string_view subject);
  // The slot holding `key`'s serial, or the empty slot where it would go.
  size_t slot_of(const Entry& key, uint32_t hash) const;
  static uint32_t hash_of(const Entry& key);
  void insert_slot(Position p, uint32_t hash);
  void grow_slots();
  void note_expiry(const Entry& e);
  void note_revocation(Position p);
  void copy_from(const CertificateIndex& other);
  void encode_tables(index_codec::Writer& w) const;
  void encode_entries(index_codec::Writer& w, size_t from, size_t to) const;
  void encode_tail(index_codec::Writer& w) const;

  struct ChunkFree {  // chunks come from malloc or HugePageAllocator: both free()
    void operator()(Entry* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<Entry[], ChunkFree>> chunks_;
  size_t size_ = 0;
  // Open addressing by serial: (low 32 bits of the hash << 32) | position;
  // kEmptySlot: empty. The hash bits place the slot and spare most probes a
  // look at the entry, and let the table grow by walking the old one in
  // order (no entry is touched, writes go to two sequential streams).
  static constexpr uint64_t kEmptySlot = UINT64_MAX;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> slots_;
  std::vector<std::string> subject_chunks_;
  StringTable profiles_;
  StringTable requesters_;
  StringTable keys_;
  std::vector<Position> revocation_order_;
  std::vector<uint64_t> revocation_digest_;  // derived from revocation_order_
  std::map<Position, std::string> child_ca_;
  std::map<Position, std::string> kept_der_;
  std::vector<int64_t> last_expiry_;  // by issuer_key; derived
  // The piece each chunk went into at the last encode_pieced(), by chunk
  // number; empty (or beyond the end): changed since, or never written.
  // Not copied with the index: a copy writes all its chunks.
  std::vector<std::optional<SnapshotPieceRef>> entry_pieces_;
  std::vector<std::optional<SnapshotPieceRef>> subject_pieces_;
};

}  // namespace cairn
