// Names, memos and keys in the hledger, ledger and beancount exports, carried as data that
// none of the tools reads as syntax. docs/FORMAT.md ("Export formats") lists what each
// format escapes.
#pragma once

#include <string>
#include <string_view>

namespace drovebank {

// A value of an hledger tag (`; memo: VALUE`): hledger ends a tag value at a comma, and
// whatever follows it may be read as another tag (`rent, txn: 999`). '%', ',' and what
// could end the line are percent-encoded (RFC 3986), so `hledger tags memo --values`
// gives back the whole value, decodable by any URL decoder.
std::string HledgerTagValue(std::string_view s);

// A ledger metadata value or account note: ledger reads `[DATE]` anywhere in a note as
// the entry's date. '%', '[', ']' and what could end the line are percent-encoded.
std::string LedgerNoteValue(std::string_view s);

// A beancount string: quoted, with '"' and '\' escaped.
std::string BeancountString(std::string_view s);

}  // namespace drovebank
