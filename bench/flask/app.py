"""Flask 3 peer of the benchmark, served by Gunicorn (see bench/servers/flask.mjs).

Serves the same routes as the Node servers. The REST route table is not written twice:
it is read from bench/routes.mjs through `node`, once at import time, so every framework
registers exactly the same paths.
"""
import json
import os
import re
import subprocess

from flask import Flask, request

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES_MODULE = os.path.join(HERE, "..", "routes.mjs")


def load_rest_routes(count):
    script = (
        "import(process.argv[1]).then(m => "
        "process.stdout.write(JSON.stringify(m.restRoutes(Number(process.argv[2])))))"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script, "--", ROUTES_MODULE, str(count)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def flask_path(path):
    return re.sub(r":(\w+)", r"<\1>", path)


app = Flask(__name__)
app.json.sort_keys = False


@app.get("/hello")
def hello():
    return "Hello, World!", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/users/<id>")
def user(id):
    return {"id": id, "name": f"User {id}"}


@app.post("/echo")
def echo():
    return request.get_json()


def rest(id=None, itemId=None):
    return {"id": id, "itemId": itemId}


for index, route in enumerate(load_rest_routes(int(os.environ.get("ROUTES", "10")))):
    app.add_url_rule(
        flask_path(route["path"]), endpoint=f"rest{index}", view_func=rest, methods=[route["method"]]
    )
