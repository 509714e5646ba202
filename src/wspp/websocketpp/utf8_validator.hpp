// wsflow's replacement for websocketpp 0.8.2's <websocketpp/utf8_validator.hpp>: the same
// interface and the same DFA (Bjoern Hoehrmann's, as websocketpp ships it), with a fast path
// for ASCII. websocketpp validates every byte of every text frame through decode(), and its
// version costs ~22 instructions a byte (it also computes code points that nobody reads): in a
// profile of `wsflow watch` it was half of all the client's work per event. Here, while the
// validator is between characters, 8 bytes at a time are checked for any high bit, and only
// bytes of multi-byte characters go through the DFA. Results are identical (tests/unit/
// utf8_validator_test.cpp checks both against each other).
//
// CMakeLists.txt puts src/wspp before the system include directories for every target that
// includes websocketpp, so that all of them see this one definition (no ODR mix). Same include
// guard as the original: whichever comes first wins, and it is this one.
#ifndef UTF8_VALIDATOR_HPP
#define UTF8_VALIDATOR_HPP

#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>

namespace websocketpp {
namespace utf8_validator {

static unsigned int const utf8_accept = 0;
static unsigned int const utf8_reject = 1;

// Byte classes, then transitions (state*16 + class); as websocketpp and the DFA's author have it.
static uint8_t const utf8d[] = {
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, // 00..1f
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, // 20..3f
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, // 40..5f
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, // 60..7f
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9, // 80..9f
  7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7, // a0..bf
  8,8,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, // c0..df
  0xa,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x4,0x3,0x3, // e0..ef
  0xb,0x6,0x6,0x6,0x5,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8, // f0..ff
  0x0,0x1,0x2,0x3,0x5,0x8,0x7,0x1,0x1,0x1,0x4,0x6,0x1,0x1,0x1,0x1, // s0..s0
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,1,1,1,1,1,0,1,0,1,1,1,1,1,1, // s1..s2
  1,2,1,1,1,1,1,2,1,2,1,1,1,1,1,1,1,1,1,1,1,1,1,2,1,1,1,1,1,1,1,1, // s3..s4
  1,2,1,1,1,1,1,1,1,2,1,1,1,1,1,1,1,1,1,1,1,1,1,3,1,3,1,1,1,1,1,1, // s5..s6
  1,3,1,1,1,1,1,3,1,3,1,1,1,1,1,1,1,3,1,1,1,1,1,1,1,1,1,1,1,1,1,1, // s7..s8
};

/// Decodes the next byte of a UTF-8 sequence (kept for compatibility: websocketpp's interface).
inline uint32_t decode(uint32_t* state, uint32_t* codep, uint8_t byte) {
  uint32_t type = utf8d[byte];
  *codep = (*state != utf8_accept) ? (byte & 0x3fu) | (*codep << 6) : (0xff >> type) & (byte);
  *state = utf8d[256 + *state * 16 + type];
  return *state;
}

/// Streaming UTF-8 validation: the state carries over from one call to the next (fragments).
class validator {
 public:
  validator() : m_state(utf8_accept) {}

  bool consume(uint8_t byte) { return step(byte); }

  /// Advances over [begin, end), a contiguous range of bytes (websocketpp passes std::string
  /// iterators). False on the first invalid byte.
  template <typename iterator_type>
  bool decode(iterator_type begin, iterator_type end) {
    if (begin == end) return true;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(std::addressof(*begin));
    const unsigned char* e = p + std::distance(begin, end);
    while (p < e) {
      if (m_state == utf8_accept) {  // between characters: skip ASCII 8 bytes at a time
        while (e - p >= 8) {
          uint64_t w;
          std::memcpy(&w, p, 8);
          if (w & 0x8080808080808080ull) break;
          p += 8;
        }
        while (p < e && *p < 0x80) ++p;
        if (p == e) break;
      }
      if (!step(*p++)) return false;
    }
    return true;
  }

  bool complete() { return m_state == utf8_accept; }

  void reset() { m_state = utf8_accept; }

 private:
  bool step(uint8_t byte) { return (m_state = utf8d[256 + m_state * 16 + utf8d[byte]]) != utf8_reject; }

  uint32_t m_state;
};

/// Validates a whole string.
inline bool validate(std::string const& s) {
  validator v;
  return v.decode(s.begin(), s.end()) && v.complete();
}

}  // namespace utf8_validator
}  // namespace websocketpp

#endif  // UTF8_VALIDATOR_HPP
