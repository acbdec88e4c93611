// The .ordinal files of a folder (ORDINAL_TEST_MODELS: the models tools/test.sh prepares for the TSan
// suites), sorted by path; empty when the folder cannot be read.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ordinal::testing {

inline std::vector<std::string> ordinal_models_in(const char* dir) {
  std::vector<std::string> paths;
  if (DIR* d = opendir(dir)) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 8 && name.compare(name.size() - 8, 8, ".ordinal") == 0)
        paths.push_back(std::string(dir) + "/" + name);
    }
    closedir(d);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace ordinal::testing
