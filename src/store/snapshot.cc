#include "snapshot.h"

#include <fcntl.h>
#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace drovebank {

namespace {

constexpr std::string_view kMagic = "drovebank-snapshot 1";
constexpr std::string_view kColumns = "id,first,last,balance,status,version,last_txn";
// Reads and writes of 256 KiB: large enough that the calls cost nothing next to the
// bytes, small enough that recover --full's check (a reader and two hashing writers at
// once) stays within the 20 MB every command keeps to at a million accounts (1 MiB
// buffers took it to 21.1 MB).
constexpr size_t kChunk = 256 << 10;

Status Bad(std::string_view why) {
  return Status::Corruption(fmt::format("journal/SNAPSHOT {}", why));
}

}  // namespace

struct SnapshotHasher {
  crypto_generichash_state st;
  SnapshotHasher() {
    // Picks the CPU's fastest BLAKE2b (without it, libsodium's portable one: 8% of a
    // million-row `list --all`). Idempotent and thread-safe.
    if (sodium_init() < 0) std::abort();
    crypto_generichash_init(&st, nullptr, 0, 32);
  }
  void Update(std::string_view b) {
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  }
  ChainHash Final() {
    ChainHash h;
    crypto_generichash_final(&st, h.data(), h.size());
    return h;
  }
};

std::string FormatSnapshotHeader(const SnapshotHeader& h) {
  return fmt::format("{} at={} seg={} offset={} head={}", kMagic, h.at_txn, h.pos.seg,
                     h.pos.offset, FormatHead(h.head));
}

Result<SnapshotHeader> ParseSnapshotHeader(std::string_view line) {
  if (line.size() < 9 || line[8] != ' ' || Crc32Hex(line.substr(9)) != line.substr(0, 8)) {
    return Bad("has no header, or its checksum fails");
  }
  std::string_view body = line.substr(9);
  if (body.substr(0, kMagic.size()) != kMagic) return Bad("is not a snapshot of this format");
  body.remove_prefix(kMagic.size());
  std::map<std::string_view, std::string_view> fields;
  while (!body.empty()) {
    if (body[0] != ' ') return Bad("header is malformed");
    body.remove_prefix(1);
    size_t sp = body.find(' ');
    std::string_view field = body.substr(0, sp);
    body = sp == std::string_view::npos ? std::string_view() : body.substr(sp);
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return Bad("header is malformed");
    fields[field.substr(0, eq)] = field.substr(eq + 1);
  }
  auto num = [&](std::string_view name, std::uint64_t* out) {
    auto it = fields.find(name);
    if (it == fields.end()) return false;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), *out);
    return ec == std::errc() && p == it->second.data() + it->second.size();
  };
  SnapshotHeader h;
  if (!num("at", &h.at_txn) || !num("seg", &h.pos.seg) || !num("offset", &h.pos.offset) ||
      !fields.count("head")) {
    return Bad("header lacks a field");
  }
  auto head = ParseHead(fields["head"]);
  if (!head.ok() || head->txn != h.at_txn) return Bad("header's head is not at its txn");
  h.head = *head;
  return h;
}

// ---- writing

SnapshotWriter::SnapshotWriter(Env* env, std::string path)
    : env_(env),
      path_(std::move(path)),
      tmp_(path_.empty() ? "" : path_ + ".tmp"),
      hasher_(std::make_unique<SnapshotHasher>()) {}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ >= 0) (void)env_->Close(fd_);
  if (temp_made_) (void)env_->Unlink(tmp_);
}

Status SnapshotWriter::Begin(const SnapshotHeader& header) {
  std::string line = FormatSnapshotHeader(header);
  buf_ = fmt::format("{} {}\n{}\n", Crc32Hex(line), line, kColumns);
  if (path_.empty()) return Status::Ok();  // hashing only
  // Never through a link: a leftover (or planted) temp file goes, and the new one must be
  // this writer's own inode.
  if (Status u = env_->Unlink(tmp_); !u.ok() && u.code() != Code::kNotFound) return u;
  DB_ASSIGN_OR_RETURN(fd_, env_->Open(tmp_, O_WRONLY | O_CREAT | O_EXCL, 0600));
  temp_made_ = true;
  return Status::Ok();
}

Status SnapshotWriter::Add(const Account& a) {
  if (a.id <= last_id_) return Status::Internal("snapshot accounts out of order");
  last_id_ = a.id;
  buf_ += EncodeAccountLine(a);
  buf_ += '\n';
  return buf_.size() + 512 >= kChunk ? Flush() : Status::Ok();
}

Status SnapshotWriter::Flush() {
  hasher_->Update(buf_);
  Status s = path_.empty() ? Status::Ok() : env_->Write(fd_, buf_);
  buf_.clear();
  return s;
}

Result<ChainHash> SnapshotWriter::Finish() {
  DB_RETURN_IF_ERROR(Flush());
  if (path_.empty()) return hasher_->Final();
  DB_RETURN_IF_ERROR(env_->DataSync(fd_));
  Status c = env_->Close(fd_);
  fd_ = -1;
  DB_RETURN_IF_ERROR(c);
  return hasher_->Final();
}

Status SnapshotWriter::Install() {
  DB_RETURN_IF_ERROR(env_->Rename(tmp_, path_));
  temp_made_ = false;
  return env_->SyncDir(path_.substr(0, path_.find_last_of('/')));
}

// ---- reading

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(Env* env, const std::string& path) {
  // Anything but a regular file there (a symlink, a directory, a FIFO: put there by hand)
  // is no snapshot, like a damaged one: reports walk the files, recover moves it away.
  Result<int> fd = env->Open(path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) {
    auto st = env->Stat(path);
    return st.ok() && !st->is_regular ? Bad("is not a regular file") : fd.status();
  }
  std::unique_ptr<SnapshotReader> r(new SnapshotReader(env, path, *fd));
  DB_ASSIGN_OR_RETURN(FileInfo info, env->StatFd(*fd));
  if (!info.is_regular) return Bad("is not a regular file");
  std::string head(4096, '\0');
  DB_ASSIGN_OR_RETURN(size_t n, env->PRead(*fd, head.data(), head.size(), 0));
  head.resize(n);
  size_t nl = head.find('\n');
  if (nl == std::string::npos) return Bad("has no header");
  DB_ASSIGN_OR_RETURN(r->header_, ParseSnapshotHeader(std::string_view(head).substr(0, nl)));
  return r;
}

SnapshotReader::~SnapshotReader() { (void)env_->Close(fd_); }

Result<ChainHash> SnapshotReader::Hash() {
  SnapshotHasher h;
  std::string buf(kChunk, '\0');
  for (std::uint64_t off = 0;;) {
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, buf.data(), buf.size(), off));
    if (n == 0) break;
    h.Update(std::string_view(buf.data(), n));
    off += n;
  }
  return h.Final();
}

Status SnapshotReader::ForEach(const ChainHash& expect,
                               const std::function<Result<bool>(Account&)>& fn) {
  SnapshotHasher h;
  std::string buf;
  std::uint64_t off = 0, lines = 0;
  AccountId last_id = 0;
  bool more = true, eof = false;
  while (more && !eof) {
    // Read in place after what is left of the last chunk (a line cut in two).
    size_t kept = buf.size();
    buf.resize(kept + kChunk);
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, buf.data() + kept, kChunk, off));
    buf.resize(kept + n);
    eof = n == 0;
    off += n;
    h.Update(std::string_view(buf.data() + kept, n));
    size_t start = 0;
    for (size_t nl; more && (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(buf.data() + start, nl - start);
      if (lines++ < 2) {
        if (lines == 2 && line != kColumns) return Bad("lacks its column header");
        continue;
      }
      auto a = DecodeAccountLine(line);
      if (!a.ok()) return Bad(fmt::format("line {}: {}", lines, a.status().message()));
      if (a->id <= last_id) return Bad(fmt::format("line {}: ids do not ascend", lines));
      last_id = a->id;
      DB_ASSIGN_OR_RETURN(more, fn(*a));
    }
    buf.erase(0, start);
  }
  if (!more) return Status::Ok();  // the caller stopped: what it saw was proven by Hash()
  if (!buf.empty()) return Bad("ends inside a line");
  if (h.Final() != expect) return Bad("changed while it was read");
  return Status::Ok();
}

}  // namespace drovebank
