/// @file scenes.hpp
/// @brief The CQRS demo's all-in-one run, scene by scene: commands go in, queries come out, the
///        read side lags, the projector is killed and resumes, a projection is rebuilt. Every
///        scene is a function of the run's state (StoryRun), so the run reads as a list of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "eda/child_process.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/query_service.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/curve_setup.hpp"
#include "eda/endpoint.hpp"
#include "eda/narrator.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::cqrs::demo {

/// @brief What the command line tells the all-in-one run.
struct StoryOptions {
  std::size_t count = 5;                    ///< `--count`: orders in the story.
  Transport transport = Transport::inproc;  ///< `--transport`: of the command and query services.
  std::string store{};       ///< `--store`: an empty store to use (empty: a new file of the run).
  std::string curve_keys{};  ///< `--curve-keys DIR`, handed to the projector process too.
  bool trace = false;        ///< `--trace`: tap the store's appends and the projector's progress.
  bool tamper = false;       ///< `--tamper`: empty the live sales read model before the rebuild.
};

/// @brief A fresh folder for the run's databases and ipc endpoints, removed afterwards.
class RunFolder {
 public:
  /// @brief Creates a new folder under the system's temporary directory.
  RunFolder();
  /// @brief Removes the folder and everything in it.
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;
  /// @brief The path of `name` in the folder.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// @brief An `ipc://` endpoint in the folder.
  [[nodiscard]] std::string ipc(const std::string& name) const { return "ipc://" + file(name); }

 private:
  std::filesystem::path path_;
};

/// @brief Runs `loop(keep_going)` on its own thread until destroyed.
class Background {
 public:
  /// @brief Starts `loop` on a new thread; `keep_going` turns false on destruction.
  explicit Background(std::function<void(const std::function<bool()>&)> loop);
  /// @brief Asks the loop to end and joins its thread.
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// @brief Everything one all-in-one run holds: its folder, the event store, the command and
///        query services (each serving on a thread of its own), the projector process, the
///        clients, and the consistency token the story has reached.
///
/// The context (and its CURVE settings) belong to the caller, who keeps them alive longer.
struct StoryRun {
  /// @brief Opens the store, starts the services and the projector process (`cqrs-demo --role
  ///        projector`, this same program, ending with this process).
  ///        Each socket gets its Security from `curve`.
  StoryRun(const StoryOptions& options, Narrator& say, zmq::context_t& context,
           const CurveSetup& curve);

  const StoryOptions& options;   ///< What the command line said.
  Narrator& say;                 ///< Where the story is told.
  zmq::context_t& context;       ///< The process's one context.
  const CurveSetup& curve;       ///< Its CURVE set-up: each socket's Security.
  const RunFolder folder;        ///< The run's databases and ipc endpoints.
  const std::string store_spec;  ///< The event store: `--store`, or a file in the folder.
  const std::string read_path;   ///< The read models' database file.
  const std::string appends;     ///< Where the store announces its appends.
  const std::string progress;    ///< Where the projector announces its progress.
  const std::unique_ptr<sourcing::EventStore> store;  ///< The write side's source of truth.
  sourcing::NotifyingEventStore notifying;            ///< The store, announcing its appends.
  CommandService command_side;                        ///< The write side's API.
  ReadModels read;                                    ///< The read side's tables.
  QueryService query_side;                            ///< The read side's API.
  Background command_loop;                            ///< Serves the command side.
  Background query_loop;                              ///< Serves the query side.
  const ChildSpec projector_spec;                     ///< How the projector is started.
  std::optional<ChildProcess> projector;              ///< The projector process, while it runs.
  CommandClient commands;                             ///< The client's command connection.
  QueryClient queries;                                ///< The client's query connection.
  std::optional<trace::DemoTrace> trace;              ///< With `--trace`: the tap.
  std::uint64_t token = 0;  ///< The position of the last command the client saw accepted.
};

/// @brief The last line of an all-in-one run stopped by Ctrl-C or SIGTERM: what it leaves
///        behind (`events`: how many the store holds, when known). Returns 0, the exit code.
int say_stopped(const StoryOptions& options, Narrator& say, std::optional<std::uint64_t> events);

// Each scene returns false when a stop request cut it short (nothing printed about it yet).

/// @brief Says who serves where, and starts the tap with `--trace`.
bool introduce(StoryRun& run);
/// @brief The story's commands, one by one, each answered with its position (or refused).
bool commands_go_in(StoryRun& run);
/// @brief Each customer's orders, the sales, the orders awaiting shipment, as of the token.
bool queries_come_out(StoryRun& run);
/// @brief How far the read side lags, and read-your-writes with the command's position.
bool read_side_lags(StoryRun& run);
/// @brief The projector SIGKILLed in the middle of a burst of commands, restarted, compared
///        with a clean projection. Throws when the resumed projection differs.
bool projector_killed_and_resumes(StoryRun& run);
/// @brief The sales projection rebuilt from the store while the projector runs. Throws when
///        the rebuild differs from the live read model.
bool projection_rebuilt(StoryRun& run);
/// @brief How many events were written; the trace's report with `--trace`.
void summary(StoryRun& run);

}  // namespace eda::cqrs::demo
