#pragma once
// net.http sessions (http.create_session): the Lua binding lives in http_session.cpp, the
// request machinery in http_client.cpp; this is the seam between them.
#include <memory>

#include "runtime/lua.hpp"

namespace mw::net {

class CookieJar;

enum class HttpCall { get, head, del, options, post, put, patch, request };

// Runs one http.* call with the arguments from index 1 as that module function takes them,
// with `jar` (may be null) giving and receiving cookies on every hop. Suspends the task.
// The session owning `jar` is pinned (registry) until the request holds the jar itself, then
// unpin_session is called: the arguments are checked first and may raise (a longjmp), so no
// C++ owner can be alive across them.
int http_call(lua_State* L, HttpCall kind, CookieJar* jar);
void unpin_session(lua_State* L);

// Adds create_session to the net.http module table at the top of the stack.
void register_http_session(lua_State* L);

}  // namespace mw::net
