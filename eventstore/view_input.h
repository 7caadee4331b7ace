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
  // The bytes not read yet (what follows a cereal archive, say).
  std::string_view rest() const {
    std::streamsize left = buffer_.left();
    return left > 0 ? std::string_view(buffer_.next(), static_cast<size_t>(left)) : std::string_view();
  }

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::string_view bytes) {
      char* begin = const_cast<char*>(bytes.data());  // only ever read
      setg(begin, begin, begin + bytes.size());
    }
    std::streamsize left() const { return egptr() - gptr(); }
    const char* next() const { return gptr(); }
  };
  Buffer buffer_;
  std::istream stream_;
};

}  // namespace cairn
