// The floor of a durable one-shot command: one process that appends one small record to
// a file and makes it durable with fdatasync (what drovebank's commit point costs at the
// least), then exits. scripts/bench times it as a whole process, like `drovebank deposit`.
//
//   fsync_floor FILE
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fsync_floor FILE\n");
    return 2;
  }
  int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("open");
    return 1;
  }
  // About the size of a journal record of a deposit.
  char record[200];
  std::memset(record, 'x', sizeof record);
  record[sizeof record - 1] = '\n';
  if (::write(fd, record, sizeof record) != static_cast<ssize_t>(sizeof record)) {
    std::perror("write");
    return 1;
  }
  if (::fdatasync(fd) != 0) {
    std::perror("fdatasync");
    return 1;
  }
  return ::close(fd) == 0 ? 0 : 1;
}
