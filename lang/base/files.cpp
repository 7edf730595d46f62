#include "base/files.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/text.hpp"

namespace persona::files {

ReadResult read(const std::filesystem::path& path, const Limits& limits, const std::string& display) {
  ReadResult r;
  const std::string name = display.empty() ? path.string() : display;
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    r.error = "cannot read " + name + ": " + std::strerror(errno);
    return r;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    r.error = "cannot read " + name + ": " + std::strerror(errno);
    ::close(fd);
    return r;
  }
  if (S_ISDIR(st.st_mode)) {
    r.error = "cannot read " + name + ": it is a directory";
    ::close(fd);
    return r;
  }
  if (!S_ISREG(st.st_mode)) {
    r.error = "cannot read " + name + ": not a regular file (devices, FIFOs and sockets are not read)";
    ::close(fd);
    return r;
  }
  if (static_cast<std::uintmax_t>(st.st_size) > limits.max_bytes) {
    r.error = "cannot read " + name + ": " + std::to_string(st.st_size) + " bytes is over the limit of " +
              std::to_string(limits.max_bytes) + " bytes";
    ::close(fd);
    return r;
  }
  std::string data;
  data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  for (;;) {
    if (got == data.size()) {
      // The file may have grown since fstat: read on, within the limit.
      if (data.size() >= limits.max_bytes) {
        char probe;
        const ssize_t n = ::read(fd, &probe, 1);
        if (n > 0) {
          r.error = "cannot read " + name + ": over the limit of " + std::to_string(limits.max_bytes) + " bytes";
          ::close(fd);
          return r;
        }
        break;
      }
      data.resize(std::min<std::uintmax_t>(limits.max_bytes, data.size() * 2 + 4096));
    }
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = "cannot read " + name + ": " + std::strerror(errno);
      ::close(fd);
      return r;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  if (limits.require_utf8) {
    if (auto bad = text::utf8_error(data)) {
      std::uint32_t line = 1;
      std::size_t line_start = 0;
      for (std::size_t i = 0; i < *bad; ++i)
        if (data[i] == '\n') {
          ++line;
          line_start = i + 1;
        }
      r.error_line = line;
      r.error_column = static_cast<std::uint32_t>(*bad - line_start + 1);
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(data[*bad])));
      r.error = name + ":" + std::to_string(line) + ":" + std::to_string(r.error_column) + ": not valid UTF-8 (byte " +
                hex +
                "); if the file was saved as Windows-1252 or Latin-1, convert it, e.g. iconv -f WINDOWS-1252 -t "
                "UTF-8";
      return r;
    }
  }
  r.text = std::move(data);
  return r;
}

std::FILE* open_stream(const std::filesystem::path& path, std::string& error, const std::string& display) {
  const std::string name = display.empty() ? path.string() : display;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
  if (fd < 0) {
    error = "cannot read " + name + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    error = "cannot read " + name + ": " +
            (S_ISDIR(st.st_mode) ? std::string("it is a directory")
             : st.st_mode != 0   ? std::string("not a regular file (devices, FIFOs and sockets are not read; "
                                                 "give - to read standard input)")
                                 : std::string(std::strerror(err)));
    ::close(fd);
    return nullptr;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, "rb");
  if (f == nullptr) {
    error = "cannot read " + name + ": " + std::strerror(errno);
    ::close(fd);
  }
  return f;
}

bool write_atomic(const std::filesystem::path& path, std::string_view text, std::string& error) {
  const std::filesystem::path tmp = path.string() + ".part";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int e = errno;
  if (f != nullptr) ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    error = "cannot write " + path.string() + ": " + (ec ? ec.message() : std::string(std::strerror(e)));
    return false;
  }
  return true;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace persona::files
