using SharpVision.Evaluation;

namespace SharpVision.Tests.Evaluation;

public class ClassificationReportTests
{
    // Five classes with unbalanced support (7, 4, 2, 2, 0): "fish" is never predicted, "none" has no
    // support but is predicted once. Expected values from scikit-learn 1.2.1, computed once with:
    //   from sklearn.metrics import precision_recall_fscore_support, accuracy_score, confusion_matrix, classification_report
    //   y_true = [0,0,0,0,0,0,1,1,1,2,2,3,3,0,1]
    //   y_pred = [0,0,0,1,0,2,1,1,0,2,2,0,1,4,1]
    //   L = list(range(5))
    //   accuracy_score(y_true, y_pred)
    //   for avg in [None, 'macro', 'weighted']:
    //       precision_recall_fscore_support(y_true, y_pred, labels=L, average=avg, zero_division=0)
    //   confusion_matrix(y_true, y_pred, labels=L)
    //   classification_report(y_true, y_pred, labels=L, target_names=['cat','dog','bird','fish','none'], zero_division=0)
    private static readonly int[] Actual = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 0, 1];
    private static readonly int[] Predicted = [0, 0, 0, 1, 0, 2, 1, 1, 0, 2, 2, 0, 1, 4, 1];
    private static readonly string[] Names = ["cat", "dog", "bird", "fish", "none"];

    private static ClassificationReport Report() => ClassificationReport.Compute(Actual, Predicted, 5, Names);

    [Fact]
    public void Per_class_metrics_match_sklearn_including_never_predicted_and_unsupported_classes()
    {
        // Given fixed predictions; When the report is computed; Then every per-class value equals sklearn's.
        var r = Report();
        double[] precision = [0.6666666666666666, 0.6, 0.6666666666666666, 0.0, 0.0];
        double[] recall = [0.5714285714285714, 0.75, 1.0, 0.0, 0.0];
        double[] f1 = [0.6153846153846153, 0.6666666666666665, 0.8, 0.0, 0.0];
        int[] support = [7, 4, 2, 2, 0];
        for (int c = 0; c < 5; c++)
        {
            Assert.Equal(Names[c], r.PerClass[c].Name);
            Assert.Equal(precision[c], r.PerClass[c].Precision, 12);
            Assert.Equal(recall[c], r.PerClass[c].Recall, 12);
            Assert.Equal(f1[c], r.PerClass[c].F1, 12);
            Assert.Equal(support[c], r.PerClass[c].Support);
        }
    }

    [Fact]
    public void Accuracy_and_macro_and_weighted_averages_match_sklearn()
    {
        var r = Report();
        Assert.Equal(0.6, r.Accuracy, 12);
        Assert.Equal(0.38666666666666666, r.MacroAverage.Precision, 12);
        Assert.Equal(0.46428571428571425, r.MacroAverage.Recall, 12);
        Assert.Equal(0.4164102564102564, r.MacroAverage.F1, 12);
        Assert.Equal(0.56, r.WeightedAverage.Precision, 12);
        Assert.Equal(0.6, r.WeightedAverage.Recall, 12);
        Assert.Equal(0.5716239316239317, r.WeightedAverage.F1, 12);
        Assert.Equal(15, r.Total);
    }

    [Fact]
    public void Confusion_matrix_has_actual_rows_and_predicted_columns_in_class_order()
    {
        var r = Report();
        int[,] expected =
        {
            { 4, 1, 1, 0, 1 },
            { 1, 3, 0, 0, 0 },
            { 0, 0, 2, 0, 0 },
            { 1, 1, 0, 0, 0 },
            { 0, 0, 0, 0, 0 },
        };
        Assert.Equal(expected, r.ConfusionMatrix);
    }

    [Fact]
    public void ToText_reproduces_sklearn_classification_report_exactly()
    {
        const string expected =
            "              precision    recall  f1-score   support\n\n" +
            "         cat       0.67      0.57      0.62         7\n" +
            "         dog       0.60      0.75      0.67         4\n" +
            "        bird       0.67      1.00      0.80         2\n" +
            "        fish       0.00      0.00      0.00         2\n" +
            "        none       0.00      0.00      0.00         0\n\n" +
            "    accuracy                           0.60        15\n" +
            "   macro avg       0.39      0.46      0.42        15\n" +
            "weighted avg       0.56      0.60      0.57        15\n";
        Assert.Equal(expected, Report().ToText());
    }

    [Fact]
    public void Binary_perfect_predictions_score_one_everywhere()
    {
        var r = ClassificationReport.Compute([0, 1, 1, 0], [0, 1, 1, 0], 2, ["neg", "pos"]);
        Assert.Equal(1.0, r.Accuracy);
        Assert.All(r.PerClass, m => Assert.Equal((1.0, 1.0, 1.0, 2), (m.Precision, m.Recall, m.F1, m.Support)));
    }

    [Fact]
    public void Compute_rejects_mismatched_lengths_and_out_of_range_labels()
    {
        Assert.Throws<ArgumentException>(() => ClassificationReport.Compute([0, 1], [0], 2, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationReport.Compute([0, 2], [0, 1], 2, null));
    }

    // Ties decide the ranking here. From scikit-learn 1.2.1:
    //   S = np.array([[0.1,0.5,0.4],[0.3,0.3,0.4],[0.4,0.4,0.2],[0.2,0.3,0.5],[0.6,0.2,0.2]], dtype=np.float32)
    //   yt = [2,0,0,0,1]
    //   [top_k_accuracy_score(yt, S, k=k, labels=[0,1,2]) for k in (1,2,3)]   # -> 0.0, 0.4, 1.0
    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.4)]
    [InlineData(3, 1.0)]
    public void TopKAccuracy_matches_sklearn_tie_breaking_toward_higher_class_index(int k, double expected)
    {
        float[,] scores =
        {
            { 0.1f, 0.5f, 0.4f }, { 0.3f, 0.3f, 0.4f }, { 0.4f, 0.4f, 0.2f }, { 0.2f, 0.3f, 0.5f }, { 0.6f, 0.2f, 0.2f },
        };
        Assert.Equal(expected, ClassificationReport.TopKAccuracy(scores, [2, 0, 0, 0, 1], k), 12);
    }

    // Binary 1-D scores, from scikit-learn 1.2.1:
    //   bt = [0,1,1,0,1]
    //   top_k_accuracy_score(bt, np.array([0.2,0.5,0.7,0.9,0.4], dtype=np.float32), k=1)    # -> 0.4 (threshold 0.5)
    //   top_k_accuracy_score(bt, np.array([-1.0,0.0,2.0,0.5,-0.2], dtype=np.float32), k=1) # -> 0.4 (threshold 0)
    [Fact]
    public void Binary_TopKAccuracy_thresholds_probabilities_at_half_and_logits_at_zero()
    {
        int[] actual = [0, 1, 1, 0, 1];
        Assert.Equal(0.4, ClassificationReport.TopKAccuracy([0.2f, 0.5f, 0.7f, 0.9f, 0.4f], actual, 1), 12);
        Assert.Equal(0.4, ClassificationReport.TopKAccuracy([-1.0f, 0.0f, 2.0f, 0.5f, -0.2f], actual, 1), 12);
        Assert.Equal(1.0, ClassificationReport.TopKAccuracy([0.2f, 0.5f, 0.7f, 0.9f, 0.4f], actual, 2), 12);
    }

    // From scikit-learn 1.2.1 (float32 input, so eps = float32 machine epsilon; row 4 has p(actual) = 0):
    //   P = np.array([[0.7,0.2,0.1],[0.1,0.8,0.1],[0.3,0.3,0.4],[1.0,0.0,0.0],[0.25,0.25,0.5]], dtype=np.float32)
    //   log_loss([0,1,0,1,2], P, labels=[0,1,2])   # -> 3.6838647429238334
    [Fact]
    public void LogLoss_matches_sklearn_with_clipping_of_zero_probabilities()
    {
        float[,] p =
        {
            { 0.7f, 0.2f, 0.1f }, { 0.1f, 0.8f, 0.1f }, { 0.3f, 0.3f, 0.4f }, { 1.0f, 0.0f, 0.0f }, { 0.25f, 0.25f, 0.5f },
        };
        Assert.Equal(3.6838647429238334, ClassificationReport.LogLoss(p, [0, 1, 0, 1, 2]), 5);
    }
}
