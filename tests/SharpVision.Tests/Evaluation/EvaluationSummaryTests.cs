using System.Text.Json;
using SharpVision.Evaluation;

namespace SharpVision.Tests.Evaluation;

public class EvaluationSummaryTests
{
    // Twelve fixed predictions over four classes; "owl" (3) has support 2 but is never predicted.
    // Expected values from scikit-learn 1.2.1, computed once with:
    //   import numpy as np
    //   from sklearn.metrics import accuracy_score, log_loss, top_k_accuracy_score, precision_recall_fscore_support, confusion_matrix
    //   P = np.array(<Probabilities below>, dtype=np.float32)
    //   y_true = [0,0,0,1,1,1,2,2,3,3,0,1]; y_pred = P.argmax(1).tolist(); L = [0,1,2,3]
    //   accuracy_score(y_true, y_pred)                         # 0.5
    //   log_loss(y_true, P, labels=L)                          # 0.8776590051806353
    //   top_k_accuracy_score(y_true, P, k=2, labels=L)         # 0.75
    //   for avg in [None, 'macro', 'weighted']:
    //       precision_recall_fscore_support(y_true, y_pred, labels=L, average=avg, zero_division=0)
    //   confusion_matrix(y_true, y_pred, labels=L).tolist()
    private static readonly float[][] Probabilities =
    [
        [0.7f, 0.1f, 0.1f, 0.1f], [0.4f, 0.3f, 0.2f, 0.1f], [0.2f, 0.5f, 0.2f, 0.1f], [0.1f, 0.8f, 0.05f, 0.05f],
        [0.3f, 0.6f, 0.05f, 0.05f], [0.25f, 0.2f, 0.45f, 0.1f], [0.1f, 0.1f, 0.7f, 0.1f], [0.5f, 0.1f, 0.3f, 0.1f],
        [0.3f, 0.1f, 0.35f, 0.25f], [0.2f, 0.45f, 0.05f, 0.3f], [0.9f, 0.05f, 0.03f, 0.02f], [0.15f, 0.35f, 0.4f, 0.1f],
    ];
    private static readonly int[] Actual = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 0, 1];
    private static readonly int[] Predicted = [0, 0, 1, 1, 1, 2, 2, 0, 2, 1, 0, 2]; // sklearn's y_pred
    private static readonly string[] Classes = ["cat", "dog", "fox", "owl"];

    [Fact]
    public void Json_numbers_equal_sklearn_for_fixed_predictions_including_a_never_predicted_class()
    {
        // Given fixed predictions; When summarised with top-2 accuracy and serialised
        var summary = EvaluationSummary.Compute(Actual, Predicted, Probabilities, Classes, topK: 2, unknownLabels: 3, skipped: 1);
        using var doc = JsonDocument.Parse(summary.ToJson());
        var j = doc.RootElement;

        // Then every number equals scikit-learn's
        Assert.Equal(0.5, j.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(0.8776590051806353, j.GetProperty("loss").GetDouble(), 6); // float32 probabilities: agree to ~1e-7
        Assert.Equal(2, j.GetProperty("top_k").GetInt32());
        Assert.Equal(0.75, j.GetProperty("top_k_accuracy").GetDouble(), 12);
        double[] precision = [0.75, 0.5, 0.25, 0.0], recall = [0.75, 0.5, 0.5, 0.0], f1 = [0.75, 0.5, 0.3333333333333333, 0.0];
        int[] support = [4, 4, 2, 2];
        for (int c = 0; c < 4; c++)
        {
            var m = j.GetProperty("per_class").GetProperty(Classes[c]);
            Assert.Equal(precision[c], m.GetProperty("precision").GetDouble(), 12);
            Assert.Equal(recall[c], m.GetProperty("recall").GetDouble(), 12);
            Assert.Equal(f1[c], m.GetProperty("f1").GetDouble(), 12);
            Assert.Equal(support[c], m.GetProperty("support").GetInt32());
        }
        var macro = j.GetProperty("macro_avg");
        Assert.Equal(0.375, macro.GetProperty("precision").GetDouble(), 12);
        Assert.Equal(0.4375, macro.GetProperty("recall").GetDouble(), 12);
        Assert.Equal(0.3958333333333333, macro.GetProperty("f1").GetDouble(), 12);
        var weighted = j.GetProperty("weighted_avg");
        Assert.Equal(0.4583333333333333, weighted.GetProperty("precision").GetDouble(), 12);
        Assert.Equal(0.5, weighted.GetProperty("recall").GetDouble(), 12);
        Assert.Equal(0.47222222222222227, weighted.GetProperty("f1").GetDouble(), 12);
        int[][] confusion = [[3, 1, 0, 0], [0, 2, 2, 0], [1, 0, 1, 0], [0, 1, 1, 0]];
        Assert.Equal(confusion, j.GetProperty("confusion_matrix").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray());
        Assert.Equal(Classes, j.GetProperty("classes").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(12, j.GetProperty("images").GetInt32());
        Assert.Equal(3, j.GetProperty("unknown_labels").GetInt32());
        Assert.Equal(1, j.GetProperty("skipped").GetInt32());
    }

    [Fact]
    public void Top_k_is_clamped_to_the_number_of_classes()
    {
        var summary = EvaluationSummary.Compute(Actual, Predicted, Probabilities, Classes, topK: 10);

        Assert.Equal(4, summary.TopK);
        Assert.Equal(1.0, summary.TopKAccuracy);
    }

    [Fact]
    public void Extra_fields_come_first_and_an_empty_set_writes_null_metrics()
    {
        var summary = EvaluationSummary.Compute([], [], [], ["a", "b"]);

        string json = summary.ToJson(new Dictionary<string, string> { ["model"] = "m.svmodel" });

        Assert.StartsWith("{\"model\":\"m.svmodel\"", json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("top_k_accuracy").ValueKind);
    }

    [Fact]
    public void Text_report_has_headline_numbers_and_sklearn_table()
    {
        var text = EvaluationSummary.Compute(Actual, Predicted, Probabilities, Classes, topK: 2, unknownLabels: 3).ToText(4);

        Assert.Contains("images 12 (3 with labels the model does not know, skipped)", text);
        Assert.Contains("accuracy 0.5000  loss 0.8777  top-2 accuracy 0.7500", text);
        Assert.Contains("         owl     0.0000    0.0000    0.0000         2", text);
    }

    [Fact]
    public void Mismatched_row_width_is_refused()
    {
        Assert.Throws<ArgumentException>(() => EvaluationSummary.Compute([0], [0], [[1f, 0f]], Classes));
    }
}
