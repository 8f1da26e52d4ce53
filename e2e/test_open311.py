"""An outside system (a hotline's CRM) reports a matter over Open311 GeoReport v2 and reads it back in JSON and XML."""
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from conftest import run

GRID = "430524001001001"
BUILDING = GRID + "003"


def call(url, form=None):
    """GET, or POST a urlencoded form; returns (status, content type, body text) — errors included."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def test_an_outside_system_reports_and_follows_a_matter(server):
    base = server["base"]
    made = run("token", "add", "--name", "hotline-crm", "--scope", "430524", "--areas", "open311", cwd=server["dir"])
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]

    # Discover the endpoint and the kinds of matter.
    status, kind, text = call(base + "/open311/discovery.json")
    assert status == 200 and kind.startswith("application/json")
    endpoint = json.loads(text)["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    api = endpoint["url"]
    services = json.loads(call(api + "/services.json")[2])
    assert any(s["service_code"] == "0301" and s["group"] == "环境卫生" for s in services)

    # A wrong key is refused in the spec's format, and creates nothing.
    status, _, text = call(api + "/requests.json", {"api_key": "gw_wrong", "service_code": "0301", "address_id": BUILDING,
                                                    "description": "楼下垃圾三天没人清运"})
    assert status == 403 and json.loads(text)[0]["code"] == 403

    # Report at a building, answered in JSON.
    status, _, text = call(api + "/requests.json", {
        "api_key": key, "service_code": "0301", "address_id": BUILDING, "description": "楼下垃圾三天没人清运",
        "first_name": "小红", "last_name": "李", "phone": "13807390001", "attribute[severity]": "large",
    })
    assert status == 200, text
    first = json.loads(text)[0]
    request_id = first["service_request_id"]
    assert "查询码" in first["service_notice"] and first["account_id"] is None

    # Report at a point inside the grid, answered in XML.
    ring = json.loads(call(base + f"/api/v1/regions/{GRID}")[2])["boundary"][:-1]
    lat = sum(p[1] for p in ring) / len(ring)
    lon = sum(p[0] for p in ring) / len(ring)
    status, kind, text = call(api + "/requests.xml", {"api_key": key, "service_code": "0403", "lat": str(lat), "long": str(lon),
                                                      "description": "路口井盖不见了 <危险> & 急"})
    assert status == 200 and kind.startswith("text/xml"), text
    second = ET.fromstring(text).find("request/service_request_id").text

    # Read both back: public facts only, with the stage's deadline.
    status, _, text = call(api + f"/requests/{request_id}.json")
    assert status == 200
    one = json.loads(text)[0]
    assert one["status"] == "open" and one["service_code"] == "0301" and one["address_id"] == BUILDING
    assert one["expected_datetime"].endswith("+08:00")
    assert "李小红" not in text and "13807390001" not in text

    status, _, text = call(api + f"/requests/{second}.xml")
    root = ET.fromstring(text)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.find("status").text == "open" and request.find("service_code").text == "0403"
    assert request.find("description").text == "路口井盖不见了 <危险> & 急"
    assert abs(float(request.find("lat").text) - lat) < 1e-9

    listed = json.loads(call(api + f"/requests.json?service_request_id={request_id},{second}")[2])
    assert {r["service_request_id"] for r in listed} == {request_id, second}
    status, _, text = call(api + "/requests/99999999.xml")
    assert status == 404 and "<code>404</code>" in text
