// task: spawn, sleep, yield, join, cancel, status, current, channels.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <deque>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/modules.hpp"

namespace mw {

// A timeout in seconds (join, send, recv): nil, 0 or math.huge → none.
static int64_t opt_seconds_ms(lua_State* L, int idx) { return opt_timeout(L, idx, 1000, kForever); }

// Waits `ms` milliseconds (kForever: a deadline no clock reaches, which still keeps the process
// alive as any pending timer does); 0 just gives other tasks a turn.
int sleep_ms(lua_State* L, int64_t ms, const char* what) {
  if (ms == 0) return yield_turn(L);
  return suspend(L, what, kForever, [&](const OpPtr& op) {
    auto timer = std::make_shared<boost::asio::steady_timer>(op->engine().io());
    if (ms == kForever)
      timer->expires_at(boost::asio::steady_timer::time_point::max());
    else
      timer->expires_after(std::chrono::milliseconds(ms));
    timer->async_wait(boost::asio::bind_cancellation_slot(op->slot(), [op, timer](const boost::system::error_code& ec) {
      if (!ec) op->resume();
    }));
  });
}

namespace {  // this file's types

static int task_spawn(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  Engine::of(L).scheduler().spawn(L, lua_gettop(L) - 1, true);
  return 1;
}

static int task_sleep(lua_State* L) { return sleep_ms(L, check_delay(L, 1, 1000, 0, "duration"), "task.sleep"); }

static int task_yield(lua_State* L) { return yield_turn(L); }

static int task_current(lua_State* L) {
  Scheduler& sched = Engine::of(L).scheduler();
  Task* t = sched.current();
  return t && sched.push_object(L, t) ? 1 : 0;
}

static void push_results(lua_State* L, int ref, int* n) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_getfield(L, -1, "n");
  *n = static_cast<int>(lua_tointeger(L, -1));
  lua_pop(L, 1);
  luaL_checkstack(L, *n, "too many results");
  for (int i = 1; i <= *n; ++i) lua_rawgeti(L, -i, i);
  lua_remove(L, -(*n + 1));
}

static int task_join(lua_State* L) {
  Task* t = Scheduler::check_task(L, 1);
  int64_t timeout = opt_seconds_ms(L, 2);
  Scheduler& sched = Engine::of(L).scheduler();
  if (t == sched.current()) raise(L, "EDEADLK", "a task cannot join itself");
  lua_settop(L, 1);
  if (t->status == TaskStatus::done) {
    int n;
    push_results(L, t->results, &n);
    return n;
  }
  if (t->finished()) {
    sched.collect(t);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results);
    return lua_error(L);
  }
  return suspend(L, "join", timeout, [&](const OpPtr& op) {
    t->joiners.push_back(op);
    op->on_abandon([t, w = std::weak_ptr<Op>(op)] {
      auto& js = t->joiners;
      for (auto it = js.begin(); it != js.end(); ++it)
        if (*it == w.lock()) {
          js.erase(it);
          break;
        }
    });
  });
}

static int task_cancel(lua_State* L) {
  Task* t = Scheduler::check_task(L, 1);
  lua_pushboolean(L, Engine::of(L).scheduler().cancel(t));
  return 1;
}

static int task_index(lua_State* L) {
  Task* t = Scheduler::check_task(L, 1);
  const char* key = luaL_checkstring(L, 2);
  if (std::string_view(key) == "status") {
    lua_pushstring(L, task_status_name(t));
    return 1;
  }
  if (std::string_view(key) == "id") {
    lua_pushinteger(L, static_cast<lua_Integer>(t->id));
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_getfield(L, -1, key);
  return 1;
}

// --- channels ---------------------------------------------------------------------------------

static constexpr const char* kChannelType = "moonwire.channel";

// Values live in the channel's uservalue table: queued values at keys kQueueBase+head ..
// kQueueBase+tail-1, values of blocked senders under small luaL_ref keys.
struct Channel {
  size_t capacity = 0;
  bool closed = false;
  lua_Integer head = 0, tail = 0;  // queue keys in the uservalue table
  struct Sender {
    OpPtr op;
    int value_ref;
  };
  std::deque<OpPtr> receivers;
  std::deque<Sender> senders;
  size_t size() const { return static_cast<size_t>(tail - head); }
};
static constexpr lua_Integer kQueueBase = lua_Integer(1) << 40;

static Channel* check_channel(lua_State* L) { return static_cast<Channel*>(check_udata(L, 1, kChannelType)); }

static OpPtr pop_active(std::deque<OpPtr>& q) {
  while (!q.empty()) {
    OpPtr op = std::move(q.front());
    q.pop_front();
    if (op->active()) return op;
  }
  return nullptr;
}

static bool pop_sender(Channel* ch, Channel::Sender* out) {
  while (!ch->senders.empty()) {
    Channel::Sender s = std::move(ch->senders.front());
    ch->senders.pop_front();
    if (s.op->active()) {
      *out = std::move(s);
      return true;
    }
  }
  return false;
}

// Hands the value at stack index `vidx` of L (channel at index 1) to a waiting receiver.
static void deliver(lua_State* L, const OpPtr& receiver, int vidx) {
  vidx = lua_absindex(L, vidx);
  receiver->resume([L, vidx](lua_State* R) {
    lua_pushvalue(L, vidx);
    lua_xmove(L, R, 1);
    lua_pushboolean(R, 1);
  });
}

static int channel_send(lua_State* L) {
  Channel* ch = check_channel(L);
  luaL_checkany(L, 2);
  int64_t timeout = opt_seconds_ms(L, 3);
  lua_settop(L, 2);
  if (ch->closed) raise(L, kClosed, "send on a closed channel");
  if (OpPtr r = pop_active(ch->receivers)) {
    deliver(L, r, 2);
    lua_pushboolean(L, 1);
    return complete_now(L, 1);
  }
  lua_getiuservalue(L, 1, 1);  // 3: storage
  if (ch->size() < ch->capacity) {
    lua_pushvalue(L, 2);
    lua_rawseti(L, 3, kQueueBase + ch->tail++);
    lua_pushboolean(L, 1);
    return complete_now(L, 1);
  }
  lua_pushvalue(L, 2);
  int ref = luaL_ref(L, 3);
  return suspend(L, "channel send", timeout, [&](const OpPtr& op) {
    ch->senders.push_back({op, ref});
    // An abandoned sender takes its value back.
    op->on_abandon([L, ch, ref] {
      for (auto it = ch->senders.begin(); it != ch->senders.end(); ++it)
        if (it->value_ref == ref) {
          ch->senders.erase(it);
          break;
        }
      lua_getiuservalue(L, 1, 1);  // the sender is suspended with the channel at index 1
      luaL_unref(L, -1, ref);
      lua_pop(L, 1);
    });
  });
}

// Takes a value without waiting: pushes it and returns true (a blocked sender's value moves into
// the queue), or pushes nothing and returns false. Storage table at stack index `storage`.
static bool channel_take(lua_State* L, Channel* ch, int storage) {
  Channel::Sender s;
  if (ch->size() > 0) {
    lua_rawgeti(L, storage, kQueueBase + ch->head);
    lua_pushnil(L);
    lua_rawseti(L, storage, kQueueBase + ch->head++);
    if (pop_sender(ch, &s)) {
      lua_rawgeti(L, storage, s.value_ref);
      lua_rawseti(L, storage, kQueueBase + ch->tail++);
      luaL_unref(L, storage, s.value_ref);
      s.op->resume([](lua_State* S) { lua_pushboolean(S, 1); });
    }
    return true;
  }
  if (pop_sender(ch, &s)) {
    lua_rawgeti(L, storage, s.value_ref);
    luaL_unref(L, storage, s.value_ref);
    s.op->resume([](lua_State* S) { lua_pushboolean(S, 1); });
    return true;
  }
  return false;
}

static int channel_recv(lua_State* L) {
  Channel* ch = check_channel(L);
  int64_t timeout = opt_seconds_ms(L, 2);
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);  // 2: storage
  if (channel_take(L, ch, 2)) {
    lua_pushboolean(L, 1);
    return complete_now(L, 2);
  }
  if (ch->closed) {
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    return 2;
  }
  return suspend(L, "channel recv", timeout, [&](const OpPtr& op) { ch->receivers.push_back(op); });
}

// try_recv() → value, true | nil, false (nothing queued, or closed: see is_closed). Never waits.
static int channel_try_recv(lua_State* L) {
  Channel* ch = check_channel(L);
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);  // 2: storage
  if (channel_take(L, ch, 2)) {
    lua_pushboolean(L, 1);
    return 2;
  }
  lua_pushnil(L);
  lua_pushboolean(L, 0);
  return 2;
}

static int channel_close(lua_State* L) {
  Channel* ch = check_channel(L);
  if (ch->closed) return 0;
  ch->closed = true;
  while (OpPtr r = pop_active(ch->receivers))
    r->resume([](lua_State* R) {
      lua_pushnil(R);
      lua_pushboolean(R, 0);
    });
  Channel::Sender s;
  lua_getiuservalue(L, 1, 1);
  while (pop_sender(ch, &s)) {
    luaL_unref(L, -1, s.value_ref);
    s.op->fail(kClosed, "channel closed while sending");
  }
  return 0;
}

static int channel_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_channel(L)->size()));
  return 1;
}

static int channel_is_closed(lua_State* L) {
  lua_pushboolean(L, check_channel(L)->closed);
  return 1;
}

static int channel_gc(lua_State* L) { return gc_object<Channel>(L, kChannelType); }

static int task_channel(lua_State* L) {
  lua_Integer cap = luaL_optinteger(L, 1, 0);
  if (cap < 0) raisef(L, "EINVAL", "task.channel: capacity must be >= 0 (got %I)", cap);
  Channel* ch = new_object<Channel>(L, kChannelType, 1);
  ch->capacity = static_cast<size_t>(cap);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

}  // namespace

int open_task(lua_State* L) {
  const luaL_Reg methods[] = {{"join", task_join}, {"cancel", task_cancel}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushcclosure(L, task_index, 1);
  for (const char* type : {kTaskType, kTaskGcType}) {  // tasks with and without a finalizer
    luaL_getmetatable(L, type);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  const luaL_Reg channel_methods[] = {{"send", channel_send},   {"recv", channel_recv},
                                      {"try_recv", channel_try_recv},
                                      {"close", channel_close}, {"is_closed", channel_is_closed},
                                      {"len", channel_len},     {nullptr, nullptr}};
  const luaL_Reg channel_meta[] = {{"__gc", channel_gc}, {"__len", channel_len}, {nullptr, nullptr}};
  new_class(L, kChannelType, channel_methods, channel_meta);

  const luaL_Reg funcs[] = {{"spawn", task_spawn}, {"sleep", task_sleep},     {"yield", task_yield},
                            {"current", task_current}, {"channel", task_channel}, {"join", task_join},
                            {"cancel", task_cancel}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw
