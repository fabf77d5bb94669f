// Batch input as a module (src/features/batch/batch_input.cc): the format from the first
// byte that is not white space (after a byte order mark), the FNV-1a hash of every byte,
// and the same lines whether the input is a streamed file or held in memory. Pipes and
// FIFOs through the program are cli_truth_e2e_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/batch.h"
#include "features/batch/batch_parse.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Spit;
using testing::TempDir;

std::vector<std::string> Lines(BatchInput* in) {
  std::vector<std::string> out;
  std::string line;
  while (in->NextLine(&line)) out.push_back(line);
  return out;
}

TEST_CASE("batch input: the format is told by the first byte that is not white space",
          "[batch_input]") {
  TempDir dir;
  struct Case {
    std::string text;
    BatchFormat format;
  };
  for (const Case& c : {Case{"[{\"type\":\"branch\"}]", BatchFormat::kCustomers},
                        Case{" \n\t{\"op\":\"close\",\"id\":1}\n", BatchFormat::kOps},
                        Case{"op,id\nclose,1\n", BatchFormat::kCsv},
                        Case{"\"op\",id\n", BatchFormat::kCsv},
                        Case{std::string(kUtf8Bom) + "op,id\n", BatchFormat::kCsv}}) {
    INFO(c.text);
    Spit(dir / "in", c.text);
    auto opened = BatchInput::Open(dir / "in");
    REQUIRE(opened.ok());
    CHECK(opened->format() == c.format);
    CHECK(BatchInput::FromString(c.text).format() == c.format);
  }
  for (const char* bad : {"", "  \n", "%x", "5,6"}) {
    INFO(bad);
    Spit(dir / "in", bad);
    CHECK(BatchInput::Open(dir / "in").status().code() == Code::kInvalidArgument);
  }
  CHECK(BatchInput::Open(dir / "missing").status().code() == Code::kNotFound);
}

TEST_CASE("batch input: the hash is FNV-1a of every byte, the same from a file or memory",
          "[batch_input]") {
  TempDir dir;
  // The FNV-1a 64-bit test vectors (computed apart, in Python).
  CHECK(BatchInput::FromString("").hash() == "cbf29ce484222325");
  CHECK(BatchInput::FromString("a").hash() == "af63dc4c8601ec8c");
  CHECK(BatchInput::FromString("foobar").hash() == "85944171f73967e8");
  std::string big = "{\"op\":\"close\",\"id\":1}\n" + std::string(200000, ' ') + "x";
  Spit(dir / "big", big);
  auto opened = BatchInput::Open(dir / "big");
  REQUIRE(opened.ok());
  CHECK(opened->hash() == BatchInput::FromString(big).hash());
  CHECK(opened->hash() != BatchInput::FromString(big + " ").hash());
}

TEST_CASE("batch input: the same lines from a streamed file and from memory, ReadAll too",
          "[batch_input]") {
  TempDir dir;
  const std::string text = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";
  Spit(dir / "in", text);
  auto file = BatchInput::Open(dir / "in");
  REQUIRE(file.ok());
  BatchInput mem = BatchInput::FromString(text);
  const std::vector<std::string> want = {"{\"a\":1}", "", "{\"b\":2}\r", "{\"c\":3}"};
  CHECK(*file->ReadAll() == text);
  CHECK(*mem.ReadAll() == text);
  CHECK(Lines(&*file) == want);
  CHECK(Lines(&mem) == want);
  BatchInput moved = std::move(*file);
  CHECK(moved.format() == BatchFormat::kOps);
}

}  // namespace
}  // namespace drovebank
