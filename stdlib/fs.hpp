#pragma once
// What the fs module's files share: the worker pool that runs disk operations off the loop.
#include <boost/asio/thread_pool.hpp>

#include "runtime/lua.hpp"

namespace mw {
// The process-wide pool (4 threads, started on first use, never destroyed).
boost::asio::thread_pool& fs_workers();
// fs.open and its file objects (fs_file.cpp), added to the fs module table at `module`.
void open_fs_file(lua_State* L, int module);
// fs.watch (fs_watch.cpp, inotify).
void open_fs_watch(lua_State* L, int module);
}  // namespace mw
