"""Answers written as mw writes them (AnswerText), for the kinds with their own text form. No
server."""

from microwork import exports
from microwork._proto import dispatch_pb2


def test_shapes_are_written_in_their_text_form_a_point_without_a_second_corner():
    a = dispatch_pb2.Answer()
    a.shapes.shapes.add(label="car", x0=10, y0=20, x1=110, y1=90)
    a.shapes.shapes.add(label="door", x0=5, y0=6)
    assert exports.answer_text(a) == "car:10,20,110,90;door:5,6"
    a.shapes.shapes.add(label="field", polygon=[10, 10, 50, 10, 30, 60])
    assert exports.answer_text(a) == "car:10,20,110,90;door:5,6;field:10,10,50,10,30,60"


def test_spans_and_rankings_keep_their_forms():
    a = dispatch_pb2.Answer()
    a.spans.spans.add(start=0, end=4, label="PER")
    assert exports.answer_text(a) == "0-4:PER"
    r = dispatch_pb2.Answer()
    r.ranking.options.extend(["t2", "t1"])
    assert exports.answer_text(r) == "t2>t1"
