# Exercises Cache::Memcached::Fast against the server on $ARGV[0]; prints OK.
use strict;
use warnings;
use Cache::Memcached::Fast;

my $m = Cache::Memcached::Fast->new({ servers => ["127.0.0.1:$ARGV[0]"], utf8 => 0 });
sub check { my ($ok, $what) = @_; die "failed: $what\n" unless $ok; }
check($m->set("pl:a", "hello", 100), "set");
check($m->get("pl:a") eq "hello", "get");
check(!$m->add("pl:a", "x"), "add existing");
check($m->add("pl:b", "1"), "add new");
check($m->replace("pl:b", "10"), "replace");
check($m->append("pl:a", " world"), "append");
check($m->prepend("pl:a", ">"), "prepend");
check($m->get("pl:a") eq ">hello world", "get after append");
my $g = $m->gets("pl:a");
check($g->[1] eq ">hello world", "gets");
check($m->cas("pl:a", $g->[0], "new"), "cas");
check(!$m->cas("pl:a", $g->[0], "newer"), "cas stale");
my $multi = $m->get_multi("pl:a", "pl:b", "pl:none");
check($multi->{"pl:a"} eq "new" && $multi->{"pl:b"} eq "10" && !exists $multi->{"pl:none"}, "get_multi");
check($m->incr("pl:b", 5) == 15, "incr");
check($m->decr("pl:b", 20) == 0, "decr");
check(!$m->incr("pl:none", 1), "incr missing");
check($m->touch("pl:a", 100), "touch");
check($m->delete("pl:a"), "delete");
check(!$m->delete("pl:a"), "delete missing");
$m->set("pl:nr", "quiet");
check($m->get("pl:nr") eq "quiet", "noreply set");
my $v = $m->server_versions;
check((values %$v)[0] =~ /^1\.6/, "version");
check($m->flush_all, "flush_all");
check(!defined $m->get("pl:b"), "get after flush");
print "OK\n";
