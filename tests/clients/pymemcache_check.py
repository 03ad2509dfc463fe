"""Exercises every command pymemcache has against the server on argv[1]; prints OK."""
import sys
from pymemcache.client.base import Client

c = Client(("127.0.0.1", int(sys.argv[1])), default_noreply=False)
assert c.version().startswith(b"1.6")
assert c.set("py:a", b"hello", expire=100, flags=7)
assert c.get("py:a") == b"hello"
assert c.add("py:a", b"x") is False
assert c.add("py:b", b"1") is True
assert c.replace("py:b", b"10") is True
assert c.replace("py:none", b"x") is False
assert c.append("py:a", b" world") is True
assert c.prepend("py:a", b">") is True
assert c.get("py:a") == b">hello world"
value, cas = c.gets("py:a")
assert value == b">hello world"
assert c.cas("py:a", b"new", cas) is True
assert c.cas("py:a", b"newer", cas) is False
assert c.get_many(["py:a", "py:b", "py:none"]) == {"py:a": b"new", "py:b": b"10"}
assert c.gets_many(["py:a"])["py:a"][0] == b"new"
assert c.incr("py:b", 5) == 15
assert c.decr("py:b", 20) == 0
assert c.incr("py:none", 1) is None
assert c.touch("py:a", 100) is True
assert c.touch("py:none", 100) is False
assert c.delete("py:a") is True
assert c.delete("py:a") is False
assert c.set_many({"py:m1": b"1", "py:m2": b"2"}) == []
assert c.delete_many(["py:m1", "py:m2"]) is True
assert c.set("py:nr", b"quiet", noreply=True)
assert c.get("py:nr") == b"quiet"
stats = c.stats()
assert stats[b"cmd_get"] > 0 and b"curr_items" in stats
assert c.stats("settings")[b"maxconns"] > 0
assert c.flush_all() is True
assert c.get("py:b") is None
c.quit()
print("OK")
