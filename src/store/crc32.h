// CRC-32 (IEEE) as a number: the journal state's checksum and a key's lock slot. As 8 hex
// digits it is the checksum of files and records (Crc32Hex, drovebank/account.h).
#pragma once

#include <cstdint>
#include <string_view>

namespace drovebank {

std::uint32_t Crc32(std::string_view data);

}  // namespace drovebank
