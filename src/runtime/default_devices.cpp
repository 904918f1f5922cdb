#include "runtime/default_devices.hpp"

namespace corral {
namespace {

DeviceRule allow(char type, std::optional<std::int64_t> major, std::optional<std::int64_t> minor,
                 const char* access) {
  return DeviceRule{true, type, major, minor, access};
}

}  // namespace

Resources with_default_device_rules(Resources resources, const std::vector<Device>& devices) {
  auto& rules = resources.devices;
  rules.push_back(allow('c', std::nullopt, std::nullopt, "m"));  // mknod of any char device
  rules.push_back(allow('b', std::nullopt, std::nullopt, "m"));  // and block device
  rules.push_back(allow('c', 1, 3, "rwm"));                      // /dev/null
  rules.push_back(allow('c', 1, 5, "rwm"));                      // /dev/zero
  rules.push_back(allow('c', 1, 7, "rwm"));                      // /dev/full
  rules.push_back(allow('c', 1, 8, "rwm"));                      // /dev/random
  rules.push_back(allow('c', 1, 9, "rwm"));                      // /dev/urandom
  rules.push_back(allow('c', 5, 0, "rwm"));                      // /dev/tty
  rules.push_back(allow('c', 5, 2, "rwm"));                      // /dev/ptmx
  rules.push_back(allow('c', 136, std::nullopt, "rwm"));         // /dev/pts/*
  for (const Device& d : devices) {
    if (d.type == 'c' || d.type == 'b' || d.type == 'u') {
      rules.push_back(allow(d.type == 'b' ? 'b' : 'c', d.major, d.minor, "rwm"));
    }
  }
  return resources;
}

}  // namespace corral
