// Lets open_event_store() open `postgresql://` specs in every program that links the
// PostgreSQL store (eda::sourcing_postgres), with nothing to call: the opener below is
// installed before main() runs. A program that links only eda::sourcing has no opener, and
// open_event_store() refuses such a spec naming this target (open_store.cpp).
#include <memory>
#include <string>

#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/postgres_store.hpp"

namespace eda::sourcing {
namespace {

std::unique_ptr<EventStore> open_postgres(const std::string& connection,
                                          const StoreSpecOptions& options) {
  return std::make_unique<PostgresEventStore>(
      PostgresStoreOptions{.connection = connection,
                           .connect_timeout = options.connect_timeout,
                           .application_name = options.application_name});
}

/// Installs the opener when the program starts.
struct Registration {
  Registration() noexcept { detail::install_postgres_opener(&open_postgres); }
} const registration;

}  // namespace
}  // namespace eda::sourcing

/// What sourcing/CMakeLists.txt tells the linker to look for (`-u`) in every program that links
/// eda::sourcing_postgres. Nothing else refers to this file, and a linker takes from a static
/// library only the files something refers to: without it the registration above would be left
/// out, and PostgreSQL specs refused.
extern "C" void eda_sourcing_postgres_registration() noexcept {}
