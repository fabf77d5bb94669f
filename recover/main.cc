// recover: repair and check a drovebank data directory (src/cli/recover_main.cc).
#include "drovebank/programs.h"

int main(int argc, char** argv) { return drovebank::RecoverMain(argc, argv); }
