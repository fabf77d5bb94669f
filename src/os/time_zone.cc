#include "drovebank/time_zone.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tz_rule.h"
#include "drovebank/validate.h"

namespace drovebank {

namespace {

// glibc's zone files, when TZDIR does not say otherwise.
constexpr const char* kDefaultTzDir = "/usr/share/zoneinfo";

// Whether `path` is a file of TZif data (RFC 8536), as glibc's tzfile reader wants.
bool IsZoneFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  char magic[4] = {};
  ssize_t n = ::read(fd, magic, sizeof magic);
  ::close(fd);
  return n == 4 && std::string_view(magic, 4) == "TZif";
}

}  // namespace

Status CheckTimeZone(const char* tz, std::string_view tzdir) {
  if (tz == nullptr || *tz == '\0') return Status::Ok();
  std::string_view name = tz;
  if (name.front() == ':') name.remove_prefix(1);  // "implementation-defined": a file
  if (!name.empty()) {
    std::string path = name.front() == '/' ? std::string(name) : fmt::format("{}/{}", tzdir, name);
    if (IsZoneFile(path)) return Status::Ok();
    for (std::string_view utc : {"UTC", "GMT", "Etc/UTC", "Etc/GMT"}) {
      if (name == utc) return Status::Ok();
    }
    if (IsPosixTzRule(name)) return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format(
      "TZ='{}' names no time zone (no such zone in {}, and not a POSIX rule such as "
      "'CET-1CEST,M3.5.0,M10.5.0/3'); name one, such as TZ=Europe/Paris, or unset TZ for UTC",
      EscapeForTerminal(tz), tzdir));
}

Status CheckTimeZone() {
  const char* tzdir = std::getenv("TZDIR");
  return CheckTimeZone(std::getenv("TZ"),
                       tzdir != nullptr && *tzdir != '\0' ? tzdir : kDefaultTzDir);
}

}  // namespace drovebank
