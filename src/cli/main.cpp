// wsflow's entry point: everything lives in the core library; main only runs the CLI.
#include <exception>
#include <iostream>

#include "cli/app.h"
#include "core/exit_status.h"

int main(int argc, char** argv) {
  try {
    return wsflow::RunApp(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "wsflow: internal error: " << e.what() << "\n";
    return wsflow::kExitProtocol;
  }
}
