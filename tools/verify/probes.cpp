// Word-order probes: shuffled text (words permuted within each line) and swap pairs (two words of one
// sentence exchanged). All randomness is SplitMix64 from the runtime, so runs reproduce everywhere.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "numerics/prng.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

template <typename T>
void shuffle(std::vector<T>* v, numerics::SplitMix64& rng, size_t first = 0) {
  for (size_t i = v->size(); i > first + 1; --i) {
    const size_t j = first + static_cast<size_t>(rng.below(i - first));
    std::swap((*v)[i - 1], (*v)[j]);
  }
}

bool is_content_word(const std::string& w) {
  static const std::set<std::string> kStop = {
      "the", "and",  "was",  "were", "are",  "for",  "with",  "that",  "this", "they", "them",
      "she", "her",  "his",  "him",  "you",  "your", "but",   "not",   "had",  "has",  "have",
      "did", "does", "said", "from", "into", "then", "there", "their", "what", "when", "who",
      "all", "one",  "its",  "too",  "very", "can",  "could", "would", "will", "just", "out",
      "our", "some", "saw",  "got",  "let",  "day",  "time",  "upon",  "once"};
  if (w.size() < 3) return false;
  for (char c : w) {
    if (!std::islower(static_cast<unsigned char>(c))) return false;
  }
  return kStop.count(w) == 0;
}

}  // namespace

std::string normalize_words(const std::string& text, bool shuffle_words, uint64_t seed) {
  numerics::SplitMix64 rng(seed);
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    std::vector<std::string> words = split_words(line);
    if (shuffle_words) shuffle(&words, rng);
    for (size_t i = 0; i < words.size(); ++i) {
      if (i) out += ' ';
      out += words[i];
    }
    out += '\n';
  }
  return out;
}

std::vector<std::vector<int32_t>> shuffle_tokens(const std::vector<std::vector<int32_t>>& seqs,
                                                 uint64_t seed) {
  numerics::SplitMix64 rng(seed);
  std::vector<std::vector<int32_t>> out = seqs;
  for (auto& s : out) shuffle(&s, rng, 1);  // BOS stays first
  return out;
}

std::vector<std::pair<std::string, std::string>> swap_templates() {
  return {
      {"The dog chased the cat.", "The cat chased the dog."},
      {"The girl gave the boy a ball.", "The boy gave the girl a ball."},
      {"The cat sat on the mat.", "The mat sat on the cat."},
      {"She put the cake in the box.", "She put the box in the cake."},
      {"The bird flew over the house.", "The house flew over the bird."},
      {"Tom saw a big fish in the lake.", "Tom saw a big lake in the fish."},
      {"The sun is hot and the snow is cold.", "The snow is hot and the sun is cold."},
      {"Lily ate the apple.", "The apple ate Lily."},
  };
}

std::vector<std::pair<std::string, std::string>> text_swap_pairs(const std::string& text, int64_t count,
                                                                 uint64_t seed) {
  // Sentences: split at . ! ? followed by whitespace, newlines end a sentence too.
  std::vector<std::string> sentences;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      if (!cur.empty()) sentences.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])))) {
      sentences.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) sentences.push_back(cur);

  numerics::SplitMix64 rng(seed);
  std::vector<size_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  shuffle(&order, rng);
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t idx : order) {
    if (static_cast<int64_t>(out.size()) >= count) break;
    std::vector<std::string> words = split_words(sentences[idx]);
    if (words.size() < 4 || words.size() > 24) continue;
    std::vector<size_t> content;
    for (size_t i = 0; i < words.size(); ++i) {
      if (is_content_word(words[i])) content.push_back(i);
    }
    if (content.size() < 2) continue;
    const size_t i = content[rng.below(content.size())];
    size_t j = content[rng.below(content.size())];
    for (int tries = 0; tries < 8 && words[j] == words[i]; ++tries) j = content[rng.below(content.size())];
    if (words[i] == words[j]) continue;
    std::vector<std::string> swapped = words;
    std::swap(swapped[i], swapped[j]);
    auto join = [](const std::vector<std::string>& w) {
      std::string s;
      for (size_t k = 0; k < w.size(); ++k) s += (k ? " " : "") + w[k];
      return s;
    };
    out.emplace_back(join(words), join(swapped));
  }
  return out;
}

std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> token_swap_pairs(
    const std::vector<std::vector<int32_t>>& seqs, int64_t count, size_t prefix, uint64_t seed) {
  numerics::SplitMix64 rng(seed);
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> out;
  for (int64_t attempt = 0; attempt < count * 4 && static_cast<int64_t>(out.size()) < count && !seqs.empty();
       ++attempt) {
    const auto& s = seqs[rng.below(seqs.size())];
    const size_t n = std::min(prefix, s.size());
    if (n < 4) continue;
    std::vector<int32_t> a(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
    const size_t i = 1 + static_cast<size_t>(rng.below(n - 1));
    const size_t j = 1 + static_cast<size_t>(rng.below(n - 1));
    if (a[i] == a[j]) continue;
    std::vector<int32_t> b = a;
    std::swap(b[i], b[j]);
    out.emplace_back(std::move(a), std::move(b));
  }
  return out;
}

}  // namespace ordinal::verify
