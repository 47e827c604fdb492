// Reads a shared object's RUNPATH, to tell a user where a missing dependency was looked for.
// Every offset and count comes from the file, so each is checked against its real size.
#include <elf.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/shared_object.h"

namespace kiln {
namespace {

constexpr uint64_t kMaxProgramHeaders = 4096;
constexpr uint64_t kMaxDynamicEntries = 65536;
constexpr size_t kMaxPathText = 4096;

bool read_at(std::ifstream& in, uint64_t file_size, uint64_t offset, void* dst, uint64_t bytes) {
  if (offset > file_size || bytes > file_size - offset) return false;
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
  return static_cast<uint64_t>(in.gcount()) == bytes;
}

}  // namespace

std::string read_elf_runpath(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff end = in.tellg();
  if (end <= 0) return "";
  const uint64_t file_size = static_cast<uint64_t>(end);

  Elf64_Ehdr header;
  if (!read_at(in, file_size, 0, &header, sizeof header)) return "";
  if (header.e_ident[EI_MAG0] != ELFMAG0 || header.e_ident[EI_MAG1] != ELFMAG1 ||
      header.e_ident[EI_MAG2] != ELFMAG2 || header.e_ident[EI_MAG3] != ELFMAG3 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > kMaxProgramHeaders) {
    return "";
  }
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  if (!read_at(in, file_size, header.e_phoff, segments.data(),
               segments.size() * sizeof(Elf64_Phdr))) {
    return "";
  }

  const Elf64_Phdr* dynamic = nullptr;
  for (const Elf64_Phdr& s : segments)
    if (s.p_type == PT_DYNAMIC) dynamic = &s;
  if (dynamic == nullptr) return "";
  const uint64_t count = dynamic->p_filesz / sizeof(Elf64_Dyn);
  if (count == 0 || count > kMaxDynamicEntries) return "";
  std::vector<Elf64_Dyn> entries(count);
  if (!read_at(in, file_size, dynamic->p_offset, entries.data(), count * sizeof(Elf64_Dyn))) {
    return "";
  }

  uint64_t strtab_address = 0, strtab_size = 0, runpath = UINT64_MAX, rpath = UINT64_MAX;
  for (const Elf64_Dyn& e : entries) {
    if (e.d_tag == DT_NULL) break;
    if (e.d_tag == DT_STRTAB) strtab_address = e.d_un.d_ptr;
    if (e.d_tag == DT_STRSZ) strtab_size = e.d_un.d_val;
    if (e.d_tag == DT_RUNPATH) runpath = e.d_un.d_val;
    if (e.d_tag == DT_RPATH) rpath = e.d_un.d_val;
  }
  const uint64_t text_offset = runpath != UINT64_MAX ? runpath : rpath;
  if (text_offset == UINT64_MAX || text_offset >= strtab_size) return "";

  // DT_STRTAB is an address; the loadable segment containing it gives its place in the file.
  uint64_t strtab_file_offset = UINT64_MAX;
  for (const Elf64_Phdr& s : segments) {
    if (s.p_type != PT_LOAD) continue;
    if (strtab_address >= s.p_vaddr && strtab_address - s.p_vaddr < s.p_filesz) {
      strtab_file_offset = strtab_address - s.p_vaddr + s.p_offset;
    }
  }
  if (strtab_file_offset == UINT64_MAX || strtab_file_offset > file_size) return "";
  const uint64_t start = strtab_file_offset + text_offset;
  if (start >= file_size) return "";
  uint64_t length =
      std::min<uint64_t>({strtab_size - text_offset, file_size - start, kMaxPathText});
  std::string text(length, '\0');
  if (!read_at(in, file_size, start, text.data(), length)) return "";
  const size_t nul = text.find('\0');
  if (nul != std::string::npos) text.resize(nul);
  return text;
}

}  // namespace kiln
