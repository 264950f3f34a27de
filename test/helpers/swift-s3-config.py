#!/usr/bin/python3
"""Writes a one-node OpenStack Swift with the S3 API into a folder, for tests.

Usage: swift-s3-config.py DIR PROXY_PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT

Writes DIR/{proxy,account,container,object}-server.conf and one-replica rings
(account, container, object) built with swift's own RingBuilder (what
swift-ring-builder does, in one process instead of nine). Everything binds to
127.0.0.1; tempauth holds the user test:tester / testing (the S3 access key is
"test:tester", the secret "testing"). Run with Debian's /usr/bin/python3, which
has the swift package.
"""
import os
import pwd
import sys

from swift.common.ring import RingBuilder

folder, proxy_port, account_port, container_port, object_port = sys.argv[1], *map(int, sys.argv[2:6])
devices = os.path.join(folder, 'srv')
os.makedirs(os.path.join(devices, 'd1'), exist_ok=True)
# The servers drop privileges to `user`: the one running the tests owns the folder.
user = pwd.getpwuid(os.getuid()).pw_name

common = f"""[DEFAULT]
bind_ip = 127.0.0.1
workers = 0
user = {user}
swift_dir = {folder}
devices = {devices}
mount_check = false
log_level = WARNING
log_name = tensio-test-swift
"""

for kind, port in (('account', account_port), ('container', container_port), ('object', object_port)):
    with open(os.path.join(folder, f'{kind}-server.conf'), 'w') as out:
        out.write(common + f"bind_port = {port}\n\n"
                  f"[pipeline:main]\npipeline = {kind}-server\n\n"
                  f"[app:{kind}-server]\nuse = egg:swift#{kind}\n")
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port, 'device': 'd1', 'weight': 1})
    builder.rebalance()
    builder.get_ring().save(os.path.join(folder, f'{kind}.ring.gz'))

# s3api before tempauth (it turns S3 signatures into auth details tempauth checks);
# slo is needed for multipart uploads; cache without a memcached only logs misses.
with open(os.path.join(folder, 'proxy-server.conf'), 'w') as out:
    out.write(common + f"""bind_port = {proxy_port}

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test2_reader = reading

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
""")
print('ok')
