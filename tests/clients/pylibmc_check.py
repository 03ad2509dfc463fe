"""Exercises pylibmc (libmemcached) against the server on argv[1]; prints OK."""
import sys
import pylibmc

c = pylibmc.Client(["127.0.0.1:%s" % sys.argv[1]], behaviors={"cas": True})
assert c.set("pl:a", "hello", time=100)
assert c.get("pl:a") == "hello"
assert c.set("pl:bin", b"\x00\xff\r\n", time=0)
assert c.get("pl:bin") == b"\x00\xff\r\n"
assert c.set("pl:int", 42)
assert c.get("pl:int") == 42
assert not c.add("pl:a", "x")
assert c.add("pl:b", "1")
assert c.replace("pl:b", "10")
assert c.append("pl:a", " world")
assert c.prepend("pl:a", ">")
assert c.get("pl:a") == ">hello world"
value, cas = c.gets("pl:a")
assert value == ">hello world"
assert c.cas("pl:a", "new", cas)
assert not c.cas("pl:a", "newer", cas)
assert c.get_multi(["pl:a", "pl:b", "pl:none"]) == {"pl:a": "new", "pl:b": "10"}
assert c.incr("pl:b", 5) == 15
assert c.decr("pl:b", 20) == 0
try:
    c.incr("pl:none")
    raise AssertionError("incr of a missing key must fail")
except pylibmc.NotFound:
    pass
assert c.touch("pl:a", 100)
assert c.delete("pl:a")
assert not c.delete("pl:a")
assert c.set_multi({"pl:m1": "1", "pl:m2": "2"}) == []
assert c.delete_multi(["pl:m1", "pl:m2"])
stats = c.get_stats()
assert int(stats[0][1]["curr_connections"]) >= 1
assert c.flush_all()
assert c.get("pl:b") is None
print("OK")
