// The in-place record readers (decode_event_record_view,
// decode_snapshot_record_view) must read exactly what cereal wrote and refuse
// what cereal refuses.
#include <gtest/gtest.h>

#include "eventstore/error.h"
#include "eventstore/records.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

using testing::error_code_of;

TEST(RecordViews, EventRecordReadsInPlace) {
  EventRecord r{42, -5, 7, std::string("payload\0with nul", 16), std::string(32, 'h')};
  std::string bytes = encode_record(r);
  EventRecordView v = decode_event_record_view(bytes);
  EXPECT_EQ(v.version, 42u);
  EXPECT_EQ(v.time_ms, -5);
  EXPECT_EQ(v.command_seq, 7u);
  EXPECT_EQ(v.payload, r.payload);
  EXPECT_EQ(v.hash, r.hash);
  EXPECT_GE(v.payload.data(), bytes.data());  // a view into the stored bytes
  EXPECT_LT(v.payload.data(), bytes.data() + bytes.size());
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(error_code_of([&] { decode_event_record_view(std::string_view(bytes).substr(0, n)); }), "corrupt_record") << n;
}

// The store writes snapshot records in place; readers (and older versions)
// see cereal's bytes.
TEST(RecordViews, SnapshotRecordWrittenInPlaceHasCerealsBytes) {
  for (const SnapshotRecord& r : {SnapshotRecord{0, "", ""}, SnapshotRecord{1, std::string(32, '\0'), "x"},
                                  SnapshotRecord{0x0102030405060708, std::string(32, 'h'), std::string(300000, 's')}}) {
    std::string in_place = encode_snapshot_record(r.version, r.event_hash, [&](std::string& out) { out += r.state; });
    EXPECT_EQ(in_place, encode_record(r)) << r.version;
    SnapshotRecordView v = decode_snapshot_record_view(in_place);
    EXPECT_EQ(v.version, r.version);
    EXPECT_EQ(v.state, r.state);
  }
}

TEST(RecordViews, SnapshotRecordReadsInPlace) {
  SnapshotRecord r{9, std::string(32, 'e'), std::string(100000, 's')};
  std::string bytes = encode_record(r);
  SnapshotRecordView v = decode_snapshot_record_view(bytes);
  EXPECT_EQ(v.version, 9u);
  EXPECT_EQ(v.event_hash, r.event_hash);
  EXPECT_EQ(v.state, r.state);
  SnapshotRecord copied = decode_snapshot_record(bytes);
  EXPECT_EQ(copied.state, v.state);
  for (size_t n = 0; n < 80; ++n)
    EXPECT_EQ(error_code_of([&] { decode_snapshot_record_view(std::string_view(bytes).substr(0, n)); }), "corrupt_record") << n;
  std::string big_endian = bytes;
  big_endian[0] = 0;  // an archive written big-endian is not read in place
  EXPECT_NE(error_code_of([&] { decode_snapshot_record_view(big_endian); }), "");
}

}  // namespace
}  // namespace cairn
