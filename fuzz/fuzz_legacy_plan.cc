// PlanLegacyImport on a hostile legacy directory: the file names decide how crash
// leftovers are settled, so the names are fuzzed as much as the contents. The input is a
// directory listing held in memory: entries separated by NUL; "name/content" is a regular
// file ('/' cannot be part of a name), "@name" a symbolic link, a bare "name" a directory.
// Properties: every entry gets exactly one decision with a known action; `errors` counts
// the "error" decisions; accounts are sorted by id, in range, each taken from a file whose
// decision takes it and whose name starts with its id, and equal to what
// ParseLegacyAccountLine makes of that file; the largest id covers every account; the
// plan does not depend on the order the directory is listed in.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "drovebank/legacy_import.h"
#include "fuzz_util.h"

using namespace drovebank;

namespace {

constexpr const char* kDir = "legacy";

struct Node {
  enum Kind { kFile, kLink, kDir } kind;
  std::string content;
};

// Just enough of an Env for the planner: ListDir, Stat and ReadFile of one directory.
class MemoryDir final : public Env {
 public:
  MemoryDir(std::map<std::string, Node> nodes, bool reversed)
      : nodes_(std::move(nodes)), reversed_(reversed) {}

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    if (path != kDir) return Status::NotFound("listing " + path);
    std::vector<std::string> names;
    for (const auto& [name, node] : nodes_) names.push_back(name);
    if (reversed_) std::reverse(names.begin(), names.end());
    return names;
  }
  Result<FileInfo> Stat(const std::string& path) override {
    const Node* n = Find(path);
    if (n == nullptr) return Status::NotFound("lstat " + path);
    FileInfo info;
    info.is_regular = n->kind == Node::kFile;
    info.is_symlink = n->kind == Node::kLink;
    info.is_dir = n->kind == Node::kDir;
    info.size = n->content.size();
    return info;
  }
  Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) override {
    const Node* n = Find(path);
    if (n == nullptr) return Status::NotFound("open " + path);
    // Opened with O_NOFOLLOW: a link is ELOOP; a directory cannot be read.
    if (n->kind != Node::kFile) return Status::IOError("read " + path);
    if (n->content.size() > at_most) return TooLarge(path, n->content.size(), at_most);
    return n->content;
  }

  // The planner must never modify the directory or touch anything else.
  Result<int> Open(const std::string&, int, unsigned) override { return Unexpected(); }
  Status Close(int) override { return Unexpected(); }
  Status Write(int, std::string_view) override { return Unexpected(); }
  Result<size_t> PRead(int, char*, size_t, std::uint64_t) override { return Unexpected(); }
  Status Sync(int) override { return Unexpected(); }
  Status DataSync(int) override { return Unexpected(); }
  Status Truncate(int, std::uint64_t) override { return Unexpected(); }
  Status Grow(int, std::uint64_t) override { return Unexpected(); }
  Result<FileInfo> StatFd(int) override { return Unexpected(); }
  Status Access(const std::string&, int) override { return Unexpected(); }
  Status Rename(const std::string&, const std::string&) override { return Unexpected(); }
  Status Unlink(const std::string&) override { return Unexpected(); }
  Status MakeDir(const std::string&, unsigned) override { return Unexpected(); }
  Status SyncDir(const std::string&) override { return Unexpected(); }
  Status PWrite(int, std::string_view, std::uint64_t) override { return Unexpected(); }
  Result<bool> ReplaceFile(const std::string&, const std::string&) override {
    return Unexpected();
  }
  void WarmForReplace(const std::vector<std::string>&) override { (void)Unexpected(); }
  Status RemoveDir(const std::string&) override { return Unexpected(); }
  Status LockByte(int, std::uint64_t, bool) override { return Unexpected(); }
  Status UnlockByte(int, std::uint64_t) override { return Unexpected(); }
  Status LockByteShared(int, std::uint64_t) override { return Unexpected(); }
  Status WaitLockByte(int, std::uint64_t) override { return Unexpected(); }
  Result<bool> ByteLocked(int, std::uint64_t) override { return Unexpected(); }
  void FaultPoint(std::string_view, std::string_view) override {}
  Result<int> OpenBootFile(const std::string&) override { return Unexpected(); }
  void Confine(const std::string&, bool) override {}
  bool IsShared(const std::string&) override { return false; }

 private:
  const Node* Find(const std::string& path) const {
    std::string prefix = std::string(kDir) + "/";
    if (path.compare(0, prefix.size(), prefix) != 0) return nullptr;
    auto it = nodes_.find(path.substr(prefix.size()));
    return it == nodes_.end() ? nullptr : &it->second;
  }
  static Status Unexpected() {
    FUZZ_CHECK(!"the planner called an Env method it has no business calling");
    return Status::Internal("unreachable");
  }

  std::map<std::string, Node> nodes_;
  bool reversed_;
};

std::map<std::string, Node> ParseListing(std::string_view in) {
  std::map<std::string, Node> nodes;
  while (!in.empty()) {
    size_t end = in.find('\0');
    std::string_view rec = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
    Node node{Node::kDir, ""};
    std::string_view name = rec;
    size_t slash = rec.find('/');
    if (slash != std::string_view::npos) {
      node = {Node::kFile, std::string(rec.substr(slash + 1))};
      name = rec.substr(0, slash);
    } else if (!rec.empty() && rec[0] == '@') {
      node.kind = Node::kLink;
      name.remove_prefix(1);
    }
    // A directory has no empty, "." or ".." entry and no name twice: the first one wins.
    if (name.empty() || name == "." || name == "..") continue;
    nodes.emplace(std::string(name), std::move(node));
  }
  return nodes;
}

bool Takes(const std::string& action) {
  return action == "import" || action == "use-tmp" || action == "use-xtmp";
}

void CheckPlan(const LegacyPlan& plan, const std::map<std::string, Node>& nodes) {
  static const std::set<std::string> kActions = {"import",  "use-tmp", "use-xtmp",
                                                 "discard", "skip",    "error"};
  FUZZ_CHECK(plan.decisions.size() == nodes.size());
  std::map<std::string, const LegacyDecision*> by_file;
  size_t errors = 0;
  for (size_t i = 0; i < plan.decisions.size(); ++i) {
    const LegacyDecision& d = plan.decisions[i];
    FUZZ_CHECK(i == 0 || plan.decisions[i - 1].file < d.file);  // sorted, one per entry
    FUZZ_CHECK(nodes.count(d.file) == 1);
    FUZZ_CHECK(kActions.count(d.action) == 1);
    FUZZ_CHECK(!d.reason.empty());
    errors += d.action == "error";
    by_file[d.file] = &d;
  }
  FUZZ_CHECK(plan.errors == errors);
  FUZZ_CHECK(plan.last_id_from_index <= kMaxAccountId);
  FUZZ_CHECK(plan.largest_file_id <= kMaxAccountId);

  size_t taken = 0;
  for (size_t i = 0; i < plan.accounts.size(); ++i) {
    const LegacyAccount& a = plan.accounts[i];
    FUZZ_CHECK(i == 0 || plan.accounts[i - 1].id < a.id);
    FUZZ_CHECK(a.id >= 1 && a.id <= kMaxAccountId);
    FUZZ_CHECK(a.id <= plan.largest_file_id && a.id <= plan.LastIdUsed());
    FUZZ_CHECK(a.balance >= 0 && a.balance <= kMaxCents);
    auto d = by_file.find(a.source_file);
    FUZZ_CHECK(d != by_file.end() && Takes(d->second->action));
    ++taken;
    std::string id = std::to_string(a.id);
    FUZZ_CHECK(a.source_file.compare(0, id.size(), id) == 0);
    FUZZ_CHECK(a.source_file.size() > id.size() &&
               (a.source_file[id.size()] == '.' || a.source_file[id.size()] == '_'));
    const Node& file = nodes.at(a.source_file);
    FUZZ_CHECK(file.kind == Node::kFile && file.content.size() <= kMaxLegacyFileBytes);
    std::string_view content = file.content;
    if (content.ends_with("\n'")) content.remove_suffix(1);
    auto parsed = ParseLegacyAccountLine(content, a.id);
    FUZZ_CHECK(parsed.ok() && parsed->first == a.first && parsed->last == a.last &&
               parsed->balance == a.balance);
  }
  // Every other taking decision is the index's, of which there is at most one.
  size_t index_taken = 0;
  for (const LegacyDecision& d : plan.decisions) {
    if (Takes(d.action) && d.file.compare(0, 5, "index") == 0) ++index_taken;
  }
  size_t all_taken = 0;
  for (const LegacyDecision& d : plan.decisions) all_taken += Takes(d.action);
  FUZZ_CHECK(index_taken <= 1 && all_taken == taken + index_taken);
  FUZZ_CHECK(index_taken == 1 || plan.last_id_from_index == 0);
}

bool SamePlan(const LegacyPlan& a, const LegacyPlan& b) {
  if (a.accounts.size() != b.accounts.size() || a.decisions.size() != b.decisions.size()) {
    return false;
  }
  for (size_t i = 0; i < a.accounts.size(); ++i) {
    const LegacyAccount &x = a.accounts[i], &y = b.accounts[i];
    if (x.id != y.id || x.first != y.first || x.last != y.last || x.balance != y.balance ||
        x.source_file != y.source_file) {
      return false;
    }
  }
  for (size_t i = 0; i < a.decisions.size(); ++i) {
    const LegacyDecision &x = a.decisions[i], &y = b.decisions[i];
    if (x.file != y.file || x.action != y.action || x.reason != y.reason) return false;
  }
  return a.last_id_from_index == b.last_id_from_index &&
         a.largest_file_id == b.largest_file_id && a.errors == b.errors;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::map<std::string, Node> nodes = ParseListing(fuzz::AsView(data, size));
  MemoryDir forward(nodes, false);
  auto plan = PlanLegacyImport(&forward, kDir);
  FUZZ_CHECK(plan.ok());
  CheckPlan(*plan, nodes);
  MemoryDir backward(nodes, true);
  auto again = PlanLegacyImport(&backward, kDir);
  FUZZ_CHECK(again.ok() && SamePlan(*plan, *again));
  MemoryDir missing({}, false);
  FUZZ_CHECK(PlanLegacyImport(&missing, "elsewhere").status().code() == Code::kNotFound);
  return 0;
}
