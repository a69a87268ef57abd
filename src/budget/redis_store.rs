//! The Redis store (feature `redis`): counters shared by every process that points at the same Redis,
//! so customer, tenant and workflow caps hold across a fleet.
//!
//! Each counter is a hash `botanu:budget:{scope}/{value}/{window}/{n}` with fields `c` (committed), `r`
//! (reserved) and `p` (peak), in nano-USD. A reservation is one Lua script (check every counter, then
//! raise every counter, or return which one refused): Redis runs a script alone, so two replicas
//! reserving at once are serialized as two threads are by the in-memory store's mutex. A settlement is
//! another script. Every write sets the counter's TTL to the end of its window plus a minute (for late
//! settlements), so windows clean themselves up.
//!
//! Every call is bounded by the timeout (connecting included): the caller sees an error after at most
//! that long, and the budget's failure mode decides. After a failure the store answers "unavailable"
//! at once for [`RETRY_AFTER`] rather than make every caller wait out the timeout again, then tries
//! to reconnect. Connections are pooled (one per concurrent caller, up to [`MAX_IDLE`] kept idle).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::store::{Line, Reserved, Store, StoreError, Usage};

/// How long the store reports itself unavailable after a failure before trying Redis again.
pub(crate) const RETRY_AFTER: Duration = Duration::from_millis(250);
/// Idle connections kept for reuse.
pub(crate) const MAX_IDLE: usize = 16;
/// Seconds a window's counter outlives its window (a settlement may come after the window ends).
const TTL_SLACK_SECS: u64 = 60;
const PREFIX: &str = "botanu:budget:";

const RESERVE: &str = r"
local amount = tonumber(ARGV[1])
local before = {1}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'c', 'r', 'p')
  local c, r, p = tonumber(v[1] or 0), tonumber(v[2] or 0), tonumber(v[3] or 0)
  local limit = tonumber(ARGV[2 * i])
  if limit >= 0 and c + r + amount > limit then
    return {0, i, c, r, p}
  end
  before[#before + 1] = c
  before[#before + 1] = r
  before[#before + 1] = p
end
for i, key in ipairs(KEYS) do
  local r = redis.call('HINCRBY', key, 'r', ARGV[1])
  local c = tonumber(redis.call('HGET', key, 'c') or 0)
  local p = tonumber(redis.call('HGET', key, 'p') or 0)
  if c + r > p then redis.call('HSET', key, 'p', string.format('%d', c + r)) end
  local ttl = tonumber(ARGV[2 * i + 1])
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
return before
";

const SETTLE: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'c', 'r', 'p')
  local c, r, p = tonumber(v[1] or 0), tonumber(v[2] or 0), tonumber(v[3] or 0)
  out[#out + 1] = c
  out[#out + 1] = r
  out[#out + 1] = p
  -- ARGV[1] is '0' when nothing was reserved (a span charged at settlement): '-0' is no integer to Redis.
  local r2 = r
  if ARGV[1] ~= '0' then r2 = redis.call('HINCRBY', key, 'r', '-' .. ARGV[1]) end
  if r2 < 0 then
    redis.call('HSET', key, 'r', 0)
    r2 = 0
  end
  local c2 = redis.call('HINCRBY', key, 'c', ARGV[2])
  if c2 + r2 > p then redis.call('HSET', key, 'p', string.format('%d', c2 + r2)) end
  local ttl = tonumber(ARGV[2 + i])
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
return out
";

const USAGE: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'c', 'r', 'p')
  out[#out + 1] = tonumber(v[1] or 0)
  out[#out + 1] = tonumber(v[2] or 0)
  out[#out + 1] = tonumber(v[3] or 0)
end
return out
";

/// Counters in Redis.
pub(crate) struct RedisStore {
    client: redis::Client,
    /// The URL without credentials, for messages.
    shown: String,
    timeout: Duration,
    idle: Mutex<Vec<redis::Connection>>,
    /// Milliseconds since the epoch before which the store answers "unavailable" without trying.
    retry_at: AtomicU64,
    reserve: redis::Script,
    settle: redis::Script,
    usage: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("url", &self.shown).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The longest a Redis call may take, whatever is configured (a minute is already far past any sane
/// budget check on the application thread).
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

impl RedisStore {
    /// A store at `url` (not connected until first used), every call bounded by `timeout`.
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let shown = super::settings::without_credentials(url);
        let client = redis::Client::open(url).map_err(|e| format!("{shown}: {e}"))?;
        Ok(RedisStore {
            client,
            shown,
            // Bounded both ways: `Instant + timeout` must not overflow (`Duration::MAX` panicked).
            timeout: timeout.clamp(Duration::from_millis(1), MAX_TIMEOUT),
            idle: Mutex::new(Vec::new()),
            retry_at: AtomicU64::new(0),
            reserve: redis::Script::new(RESERVE),
            settle: redis::Script::new(SETTLE),
            usage: redis::Script::new(USAGE),
        })
    }

    /// Runs `f` on a connection within the timeout; a failure drops the connection and holds further
    /// calls off for [`RETRY_AFTER`].
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        if now_ms() < self.retry_at.load(Ordering::Relaxed) {
            return Err(StoreError(format!("{} unavailable (retrying shortly)", self.shown)));
        }
        let deadline = Instant::now() + self.timeout;
        let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let result = match pooled {
            Some(connection) => Ok(connection),
            None => self.client.get_connection_with_timeout(self.timeout),
        }
        .and_then(|mut connection| {
            let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
            connection.set_read_timeout(Some(left))?;
            connection.set_write_timeout(Some(left))?;
            f(&mut connection).map(|value| (value, connection))
        });
        match result {
            Ok((value, connection)) => {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if idle.len() < MAX_IDLE {
                    idle.push(connection);
                }
                Ok(value)
            }
            Err(error) => {
                self.retry_at
                    .store(now_ms() + u64::try_from(RETRY_AFTER.as_millis()).unwrap_or(250), Ordering::Relaxed);
                // Every pooled connection may be to the server that went away.
                self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
                Err(StoreError(format!("{}: {error}", self.shown)))
            }
        }
    }
}

fn key(line: &Line) -> String {
    format!("{PREFIX}{}", line.key)
}

fn ttl(line: &Line) -> i64 {
    line.ttl_secs.map_or(-1, |t| i64::try_from(t.saturating_add(TTL_SLACK_SECS)).unwrap_or(i64::MAX))
}

fn limit(line: &Line) -> i64 {
    line.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX))
}

fn figure(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// `c, r, p` triples as usages; `None` if the reply is not that shape.
fn usages(flat: &[i64], lines: usize) -> Option<Vec<Usage>> {
    (flat.len() == lines * 3).then(|| {
        flat.chunks_exact(3)
            .map(|t| Usage { committed: figure(t[0]), reserved: figure(t[1]), peak: figure(t[2]) })
            .collect()
    })
}

fn bad_reply(shown: &str) -> StoreError {
    StoreError(format!("{shown}: unexpected reply from a budget script"))
}

impl Store for RedisStore {
    fn reserve(&self, lines: &[Line], amount: u64, _now: u64) -> Result<Reserved, StoreError> {
        let reply: Vec<i64> = self.with_connection(|con| {
            let mut invocation = self.reserve.prepare_invoke();
            invocation.arg(amount);
            for line in lines {
                invocation.key(key(line)).arg(limit(line)).arg(ttl(line));
            }
            invocation.invoke(con)
        })?;
        match reply.split_first() {
            Some((1, rest)) => usages(rest, lines.len()).map(Reserved::Yes).ok_or_else(|| bad_reply(&self.shown)),
            Some((0, [line, c, r, p])) => Ok(Reserved::No {
                line: usize::try_from(*line - 1).map_err(|_| bad_reply(&self.shown))?,
                usage: Usage { committed: figure(*c), reserved: figure(*r), peak: figure(*p) },
            }),
            _ => Err(bad_reply(&self.shown)),
        }
    }

    fn settle(&self, lines: &[Line], reserved: u64, actual: u64, _now: u64) -> Result<Vec<Usage>, StoreError> {
        let reply: Vec<i64> = self.with_connection(|con| {
            let mut invocation = self.settle.prepare_invoke();
            invocation.arg(reserved).arg(actual);
            for line in lines {
                invocation.key(key(line)).arg(ttl(line));
            }
            invocation.invoke(con)
        })?;
        usages(&reply, lines.len()).ok_or_else(|| bad_reply(&self.shown))
    }

    fn usage(&self, lines: &[Line], _now: u64) -> Result<Vec<Usage>, StoreError> {
        let reply: Vec<i64> = self.with_connection(|con| {
            let mut invocation = self.usage.prepare_invoke();
            for line in lines {
                invocation.key(key(line));
            }
            invocation.invoke(con)
        })?;
        usages(&reply, lines.len()).ok_or_else(|| bad_reply(&self.shown))
    }
}
