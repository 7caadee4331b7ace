// ViewInput — an std::istream over borrowed bytes, without copying them.
// Decoding (cereal) reads records straight out of the storage buffer;
// std::istringstream would first copy every record, twice per event.
// Thread-safety: one per decode; the bytes must outlive it.
#pragma once

#include <istream>
#include <streambuf>
#include <string_view>

namespace cairn {

class ViewInput {
 public:
  explicit ViewInput(std::string_view bytes) : buffer_(bytes), stream_(&buffer_) {}
  ViewInput(const ViewInput&) = delete;
  ViewInput& operator=(const ViewInput&) = delete;
  std::istream& stream() { return stream_; }

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::string_view bytes) {
      char* begin = const_cast<char*>(bytes.data());  // only ever read
      setg(begin, begin, begin + bytes.size());
    }
  };
  Buffer buffer_;
  std::istream stream_;
};

}  // namespace cairn
