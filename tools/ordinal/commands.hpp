// One entry point per CLI verb (tools/ordinal/cmd_*.cpp). argv[0] is the verb.
#pragma once

namespace ordinal::cli {

int cmd_import(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_verify(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_profile(int argc, char** argv);

}  // namespace ordinal::cli
