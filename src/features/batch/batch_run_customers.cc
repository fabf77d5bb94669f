// Runs the branch/customer format: customers one after another, or each in its own
// forked process at the same time (--parallel).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "drovebank/batch.h"
#include "batch_parse.h"

namespace drovebank {

namespace {

struct CustomerRun {
  std::vector<std::string> recv;
  size_t applied = 0, replayed = 0, refused = 0, groups = 0;
};

std::string Success(Interface i) {
  return fmt::format("{{\"interface\": \"{}\", \"result\": \"success\"}}",
                     i == Interface::kDeposit ? "deposit" : "withdraw");
}

std::string Fail(Interface i) {
  return fmt::format("{{\"interface\": \"{}\", \"result\": \"fail\"}}",
                     i == Interface::kDeposit ? "deposit" : "withdraw");
}

bool IsRuleRefusal(Code c) {
  return c == Code::kInsufficientFunds || c == Code::kClosed || c == Code::kLimit ||
         c == Code::kRuleFailed || c == Code::kNotFound;
}

// One customer's events in id order. Money events are committed in groups; a query
// commits what is pending first, so it sees every earlier event of this customer.
Status RunCustomer(Store* store, const Customer& c, size_t index, AccountId account,
                   const std::string& hash, const BatchOptions& options, CustomerRun* run) {
  DB_FAULT_PATH("batch");
  std::vector<Event> group;
  std::vector<Interface> kinds;
  auto flush = [&]() -> Status {
    if (group.empty()) return Status::Ok();
    DB_ASSIGN_OR_RETURN(auto results, store->CommitGroup(std::move(group)));
    bool wrote = false;
    for (size_t i = 0; i < results.size(); ++i) {
      const EventResult& r = results[i];
      if (r.status.ok()) {
        ++(r.replayed ? run->replayed : run->applied);
        wrote = wrote || !r.replayed;
        run->recv.push_back(Success(kinds[i]));
      } else if (IsRuleRefusal(r.status.code())) {
        ++run->refused;
        run->recv.push_back(Fail(kinds[i]));
      } else {
        return r.status.Annotate(fmt::format("customer {}", c.id));
      }
    }
    if (wrote) ++run->groups;
    group.clear();
    kinds.clear();
    return Status::Ok();
  };
  size_t n = 0;
  for (const CustomerEvent& e : c.events) {
    ++n;
    if (e.interface == Interface::kQuery) {
      DB_RETURN_IF_ERROR(flush());
      DB_ASSIGN_OR_RETURN(Account a, store->Get(account));
      run->recv.push_back(fmt::format("{{\"interface\": \"query\", \"balance\": {}}}",
                                      FormatExactMoney(a.balance)));
      continue;
    }
    Op op;
    op.kind = e.interface == Interface::kDeposit ? OpKind::kDeposit : OpKind::kWithdraw;
    op.id = account;
    op.amount = e.money;
    // Position-based (not id-based) so the key stays short whatever the ids are.
    std::string key = options.auto_keys
                          ? AutoKey(hash, fmt::format("a{}-{}.{}", account, index, n))
                          : std::string();
    group.push_back(Event{{op}, std::move(key)});
    kinds.push_back(e.interface);
    if (group.size() >= std::max<size_t>(1, options.group_size)) DB_RETURN_IF_ERROR(flush());
  }
  return flush();
}

// The account every customer acts on: the one given, or one opened with the branches'
// balance. The open carries an automatic key too, so a re-run after a crash finds the
// account the first run opened instead of opening another.
Result<AccountId> SharedAccount(Store* store, const CustomerBatch& batch,
                                const std::string& hash, const BatchOptions& options,
                                BatchSummary* summary) {
  DB_FAULT_PATH("batch");
  if (options.account) {
    DB_RETURN_IF_ERROR(store->Get(*options.account).status());
    return *options.account;
  }
  if (!batch.branch_balance) {
    return Status::InvalidArgument(
        "no branch gives the opening balance: add a branch or pass --account ID");
  }
  Op op;
  op.kind = OpKind::kOpen;
  op.first = "Batch";
  op.last = "Shared";
  op.amount = *batch.branch_balance;
  std::string key = options.auto_keys ? AutoKey(hash, "open") : std::string();
  DB_ASSIGN_OR_RETURN(EventResult res,
                      store->Commit(Event{{op}, std::move(key)}));
  summary->opened = !res.replayed;
  return res.record.ops.at(0).id;
}

void Add(BatchSummary* summary, const CustomerRun& run) {
  summary->applied += run.applied;
  summary->replayed += run.replayed;
  summary->refused += run.refused;
  summary->groups += run.groups;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "writing to the parent process");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string ReadAllFd(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

// The child's report on its pipe: "ok APPLIED REPLAYED REFUSED GROUPS\nENTRY" or
// "err CODE\nMESSAGE".
[[noreturn]] void ChildMain(const Customer& c, size_t index, AccountId account,
                            const std::string& hash, const BatchOptions& options, int go_fd,
                            int report_fd) {
  char b;
  while (go_fd >= 0 && ::read(go_fd, &b, 1) < 0 && errno == EINTR) {
  }
  CustomerRun run;
  std::string report;
  auto store = options.open_store();
  Status s = store.ok() ? RunCustomer(*store, c, index, account, hash, options, &run)
                        : store.status();
  if (s.ok()) {
    report = fmt::format("ok {} {} {} {}\n{}", run.applied, run.replayed, run.refused,
                         run.groups, CustomerResultJson(c.id, run.recv));
  } else {
    report = fmt::format("err {}\n{}", static_cast<int>(s.code()), s.message());
  }
  int code = WriteAll(report_fd, report).ok() ? 0 : 1;
  options.close_store();
  ::_exit(code);
}

// How many customer processes run at once: at most kMaxParallel, and few enough that
// the parent's pipe ends (one a child) and the children fit the open-file limit.
constexpr size_t kMaxParallel = 64;

size_t ParallelLimit() {
  struct rlimit rl;
  size_t limit = kMaxParallel;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    // The parent keeps some descriptors of its own (stdio, the input): leave it 32.
    size_t room = rl.rlim_cur > 48 ? static_cast<size_t>(rl.rlim_cur) - 32 : 16;
    limit = std::min(limit, room / 2);
  }
  return std::max<size_t>(1, limit);
}

struct Child {
  size_t index;  // of the customer
  pid_t pid;
  int fd;  // the read end of its report pipe
};

// Reads the child's report to its end and waits for it; returns its wait status.
int Reap(const Child& child, std::string* report) {
  *report = ReadAllFd(child.fd);
  ::close(child.fd);
  int wstatus = 0;
  while (::waitpid(child.pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return wstatus;
}

// A child's report: "ok APPLIED REPLAYED REFUSED GROUPS" and its results line, or
// "err CODE" and the message. A child that ended without either may have applied part of
// its events.
Status TakeReport(const std::string& report, int wstatus, std::uint64_t id,
                  std::vector<std::string>* entries, BatchSummary* summary) {
  size_t nl = report.find('\n');
  CustomerRun run;
  if (report.rfind("ok ", 0) == 0 && nl != std::string::npos &&
      std::sscanf(report.c_str(), "ok %zu %zu %zu %zu", &run.applied, &run.replayed,
                  &run.refused, &run.groups) == 4) {
    Add(summary, run);
    entries->push_back(report.substr(nl + 1));
    return Status::Ok();
  }
  int code = 0;
  if (report.rfind("err ", 0) == 0 && nl != std::string::npos &&
      std::sscanf(report.c_str(), "err %d", &code) == 1) {
    return Status(static_cast<Code>(code), report.substr(nl + 1));
  }
  int exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return Status::IOError(fmt::format("the process of customer {} ended with code {} before "
                                     "reporting; its events may be partly applied",
                                     id, exit_code))
      .set_maybe_applied();
}

// The customers' processes. Why a window, not every customer at once: 600 customers
// under `ulimit -n 300` ran 287 and then failed to make a pipe. The first `limit` start
// together (the go pipe); each one that ends is replaced by the next customer, in file
// order.
class CustomerWindow {
 public:
  CustomerWindow(const CustomerBatch& batch, AccountId account, const std::string& hash,
                 const BatchOptions& options, int go_read, int go_write)
      : batch_(batch), account_(account), hash_(hash), options_(options),
        go_{go_read, go_write} {}

  // Starts the first window; the children wait on the go pipe until Release.
  void Fill() {
    while (next_ < batch_.customers.size() && running_.size() < ParallelLimit()) {
      if (!StartNext()) break;
    }
  }
  // Closes the go pipe: the first window starts now (or, after a failed fork, finds EOF).
  void Release() {
    ::close(go_[0]);
    ::close(go_[1]);
    released_ = true;
  }
  // Reaps each child in the order they started, starting the next customer in its place.
  void Drain(std::vector<std::string>* entries, BatchSummary* summary) {
    while (!running_.empty()) {
      Child child = running_.front();
      running_.pop_front();
      std::string report;
      int wstatus = Reap(child, &report);
      if (next_ < batch_.customers.size()) StartNext();
      Status s = TakeReport(report, wstatus, batch_.customers[child.index].id, entries, summary);
      if (failure_.ok()) failure_ = s;
    }
  }
  // The first failure, with the customers never started named.
  Status Outcome() const {
    if (failure_.ok() || not_run_ == 0) return failure_;
    // Say what did not run; what did is counted in the summary and stands.
    return Status(failure_.code(),
                  fmt::format("{}; {} customer(s) were not run (run the same input again to "
                              "finish them)",
                              failure_.message(), not_run_))
        .set_maybe_applied(failure_.maybe_applied());
  }

 private:
  // Forks the next customer's process; on a failed pipe or fork no further one starts.
  bool StartNext() {
    Status s = Start(next_);
    if (s.ok()) {
      ++next_;
      return true;
    }
    if (failure_.ok()) failure_ = s;
    not_run_ = batch_.customers.size() - next_;
    next_ = batch_.customers.size();
    return false;
  }
  Status Start(size_t i) {
    int rep[2];
    if (::pipe2(rep, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      ::close(rep[0]);
      ::close(rep[1]);
      return ErrnoStatus(err, "fork");
    }
    if (pid == 0) {
      if (!released_) ::close(go_[1]);
      ::close(rep[0]);
      for (const Child& ch : running_) ::close(ch.fd);
      ChildMain(batch_.customers[i], i + 1, account_, hash_, options_,
                released_ ? -1 : go_[0], rep[1]);
    }
    ::close(rep[1]);
    running_.push_back({i, pid, rep[0]});
    return Status::Ok();
  }

  const CustomerBatch& batch_;
  AccountId account_;
  const std::string& hash_;
  const BatchOptions& options_;
  int go_[2];
  std::deque<Child> running_;
  Status failure_;
  size_t next_ = 0;         // the next customer to start
  size_t not_run_ = 0;      // customers never started after a failed pipe or fork
  bool released_ = false;   // the go pipe is closed: children start at once
};

Status RunParallel(const CustomerBatch& batch, AccountId account, const std::string& hash,
                   const BatchOptions& options, std::vector<std::string>* entries,
                   BatchSummary* summary) {
  // Nothing of the parent's store may be shared with the children (OFD locks belong to
  // open file descriptions, which fork shares).
  options.close_store();
  std::fflush(nullptr);
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  CustomerWindow window(batch, account, hash, options, go[0], go[1]);
  window.Fill();
  window.Release();
  window.Drain(entries, summary);
  return window.Outcome();
}

}  // namespace

Status RunCustomerBatch(const CustomerBatch& batch, const std::string& input_hash,
                        const BatchOptions& options, std::FILE* out, BatchSummary* summary) {
  DB_ASSIGN_OR_RETURN(Store * store, options.open_store());
  DB_ASSIGN_OR_RETURN(AccountId account,
                      SharedAccount(store, batch, input_hash, options, summary));
  summary->account = account;
  for (const Customer& c : batch.customers) {
    for (const CustomerEvent& e : c.events) summary->events += e.interface != Interface::kQuery;
  }
  std::vector<std::string> entries;
  Status s;
  if (options.parallel) {
    s = RunParallel(batch, account, input_hash, options, &entries, summary);
  } else {
    for (size_t i = 0; i < batch.customers.size() && s.ok(); ++i) {
      CustomerRun run;
      s = RunCustomer(store, batch.customers[i], i + 1, account, input_hash, options, &run);
      if (!s.ok()) break;
      Add(summary, run);
      entries.push_back(CustomerResultJson(batch.customers[i].id, run.recv));
    }
  }
  if (!s.ok()) return s;
  std::string text = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    text += i == 0 ? "\n  " : ",\n  ";
    text += entries[i];
  }
  text += entries.empty() ? "]\n" : "\n]\n";
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
  return Status::Ok();
}

}  // namespace drovebank
