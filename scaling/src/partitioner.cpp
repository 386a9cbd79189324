// The partition count check shared by the partitioner, the assignment and the coordinator.
#include "eda/scaling/partitioner.hpp"

#include <stdexcept>
#include <string>

namespace eda::scaling {

void check_partition_count(std::uint32_t partition_count, std::string_view what) {
  if (partition_count == 0 || partition_count > max_partitions) {
    throw std::invalid_argument(std::string(what) + ": a group has 1 to " +
                                std::to_string(max_partitions) + " partitions, not " +
                                std::to_string(partition_count));
  }
}

Partitioner::Partitioner(std::uint32_t partition_count) : partition_count_(partition_count) {
  check_partition_count(partition_count, "Partitioner");
}

}  // namespace eda::scaling
